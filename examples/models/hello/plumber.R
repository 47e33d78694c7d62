# hello: the smallest useful plumber API (echo, a PNG plot, a sum). Served by plumberhub's
# entrypoint, which adds GET /healthz; nothing here needs to know about the gateway or its prefix.

#* Echo back the input
#* @param msg The message to echo
#* @get /echo
function(msg = "") {
  list(msg = paste0("The message is: '", msg, "'"))
}

#* Plot a histogram of 100 normal draws
#* @serializer png
#* @get /plot
function() {
  rand <- rnorm(100)
  hist(rand, main = "100 draws from N(0, 1)", xlab = "value")
}

#* Return the sum of two numbers
#* @param a:number The first number
#* @param b:number The second number
#* @post /sum
function(a = NA, b = NA, res) {
  x <- suppressWarnings(as.numeric(c(a, b)))
  if (length(x) != 2 || anyNA(x)) {
    res$status <- 400
    return(list(error = jsonlite::unbox("`a` and `b` must both be numbers")))
  }
  sum(x)
}
