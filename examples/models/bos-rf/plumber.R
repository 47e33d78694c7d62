# bos-rf: median home value (medv, $1000s) for Boston suburbs, from the random forest that build.R
# trained at image build. POST /score takes a JSON data frame: an array of row objects with the 13
# predictors of MASS::Boston; it returns one prediction per row, in order.
library(randomForest)

bos_rf <- if (file.exists("bos_rf.rds")) {
  readRDS("bos_rf.rds")
} else {
  # Run from a source checkout (build.R not run): train in memory, write nothing.
  message("bos-rf: bos_rf.rds not found, training in memory")
  source("train.R")
  train_bos_rf()
}
predictors <- setdiff(names(MASS::Boston), "medv")

# The body is parsed here, not by plumber's json parser: plumber answers malformed JSON with a 500,
# and a caller's mistake deserves a 400 that says what is wrong.
plumber::register_parser("json_as_text", function(...) plumber::parser_text(), fixed = "application/json", verbose = FALSE)

bad_request <- function(res, message) {
  res$status <- 400
  list(error = jsonlite::unbox(message))
}

#* Predict medv ($1000s) for each row. Body: a JSON array of row objects with the 13 predictors of MASS::Boston (see sample-request.json)
#* @parser json_as_text
#* @post /score
function(req, res) {
  body <- req$postBody
  rows <- tryCatch(jsonlite::fromJSON(body, simplifyVector = TRUE), error = function(e) e)
  if (inherits(rows, "error")) {
    return(bad_request(res, "the body must be JSON: an array of row objects"))
  }
  if (!is.data.frame(rows) || nrow(rows) == 0) {
    return(bad_request(res, "the body must be a non-empty JSON array of row objects"))
  }
  missing <- setdiff(predictors, names(rows))
  if (length(missing) > 0) {
    return(bad_request(res, paste0("missing columns: ", paste(missing, collapse = ", "))))
  }
  rows <- rows[predictors]
  not_numeric <- predictors[!vapply(rows, is.numeric, logical(1)) | vapply(rows, anyNA, logical(1))]
  if (length(not_numeric) > 0) {
    return(bad_request(res, paste0("columns must be numbers in every row: ", paste(not_numeric, collapse = ", "))))
  }
  as.numeric(predict(bos_rf, rows))
}
