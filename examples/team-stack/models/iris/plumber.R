# iris: the species of an iris flower from its four measurements (cm), by the nearest-centroid classifier that
# build.R trained at image build. POST /predict takes a JSON array of row objects with Sepal.Length, Sepal.Width,
# Petal.Length and Petal.Width; it returns one species per row, in order.
source("train.R")
iris_model <- if (file.exists("iris_model.rds")) {
  readRDS("iris_model.rds")
} else {
  # Run from a source checkout (build.R not run): train in memory, write nothing.
  message("iris: iris_model.rds not found, training in memory")
  train_iris()
}

# The body is parsed here so malformed JSON is a 400 that says what is wrong, not plumber's 500.
plumber::register_parser("json_as_text", function(...) plumber::parser_text(), fixed = "application/json", verbose = FALSE)

bad_request <- function(res, message) {
  res$status <- 400
  list(error = jsonlite::unbox(message))
}

#* Predict the species of each row. Body: a JSON array of row objects with Sepal.Length, Sepal.Width, Petal.Length, Petal.Width (cm)
#* @parser json_as_text
#* @post /predict
function(req, res) {
  rows <- tryCatch(jsonlite::fromJSON(req$postBody, simplifyVector = TRUE), error = function(e) e)
  if (inherits(rows, "error") || !is.data.frame(rows) || nrow(rows) == 0) {
    return(bad_request(res, "the body must be a non-empty JSON array of row objects"))
  }
  missing <- setdiff(iris_model$features, names(rows))
  if (length(missing) > 0) {
    return(bad_request(res, paste0("missing columns: ", paste(missing, collapse = ", "))))
  }
  values <- rows[iris_model$features]
  if (!all(vapply(values, is.numeric, logical(1))) || anyNA(values)) {
    return(bad_request(res, "every measurement must be a number"))
  }
  list(species = predict_iris(iris_model, values))
}

#* The species the model knows
#* @get /species
function() {
  as.character(iris_model$centroids$Species)
}
