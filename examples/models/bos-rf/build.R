# Run once at image build by plumberhub (`Rscript build.R` in this folder): trains the forest and
# saves it next to plumber.R, so the model is baked into the image and the container starts fast.
source("train.R")
bos_rf <- train_bos_rf()
saveRDS(bos_rf, "bos_rf.rds")
cat("bos-rf: trained", bos_rf$ntree, "trees, % var explained", round(100 * tail(bos_rf$rsq, 1), 1), "\n")
