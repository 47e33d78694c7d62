# Run once at image build by plumberhub (`Rscript build.R` in this folder): trains the classifier and saves it
# next to plumber.R, so the model is baked into the image.
source("train.R")
iris_model <- train_iris()
saveRDS(iris_model, "iris_model.rds")
cat("iris: trained on", nrow(iris), "flowers, training accuracy",
    round(100 * mean(predict_iris(iris_model, iris) == iris$Species), 1), "%\n")
