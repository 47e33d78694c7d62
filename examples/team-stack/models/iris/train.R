# The iris model: a nearest-centroid classifier on the four measurements of base R's `iris` data set, each
# measurement scaled by its pooled within-species standard deviation. Base R only (no packages), so every R image
# can train it.
train_iris <- function() {
  features <- c("Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width")
  scale <- vapply(features, function(f) sqrt(mean(tapply(iris[[f]], iris$Species, var))), numeric(1))
  centroids <- aggregate(iris[features], by = list(Species = iris$Species), FUN = mean)
  list(features = features, scale = scale, centroids = centroids)
}

# Species of each row of `rows` (a data frame with the four features): the centroid nearest in scaled distance.
predict_iris <- function(model, rows) {
  x <- sweep(as.matrix(rows[model$features]), 2, model$scale, "/")
  centres <- sweep(as.matrix(model$centroids[model$features]), 2, model$scale, "/")
  nearest <- apply(x, 1, function(row) which.min(colSums((t(centres) - row)^2)))
  as.character(model$centroids$Species[nearest])
}
