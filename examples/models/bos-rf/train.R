# The Boston housing random forest (medv ~ .) of the AzureContainers walkthrough. Deterministic: a
# fixed seed gives the same forest on every run.
train_bos_rf <- function() {
  library(randomForest)
  set.seed(20240101)
  randomForest(medv ~ ., data = MASS::Boston, ntree = 100)
}
