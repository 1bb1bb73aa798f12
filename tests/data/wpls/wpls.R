# Weighted PLS path modelling in base R, written independently of src/analysis/pls.py, for
# tests/test_pls_weighted_r.py. Run: Rscript wpls.R DATA.csv BLOCKS.csv PATHS.csv OUT.csv [TOL]
#   DATA.csv    the items (complete rows) and a column `w` of case weights
#   BLOCKS.csv  construct, item (reflective blocks, Mode A)
#   PATHS.csv   source, target (a recursive inner model)
#   OUT.csv     parameter (path | loading | weight), source, target, value
#
# The algorithm is Wold's PLS-PM in Lohmoeller's (1989, ch. 2) formulation, as seminr's simplePLS,
# done on the data (not on a correlation matrix) with every moment weighted by the case weights w:
#   1. indicators standardised with the weighted mean and the weighted sd (divisor sum(w) - 1);
#   2. outer weights start at 1; construct scores Y = Z W rescaled to unit weighted variance;
#   3. inner weights, path weighting scheme: for construct j, its predecessors (the sources of paths
#      into j) get the weighted least-squares coefficients of Y_j on them, its successors their
#      weighted correlation with Y_j; the inner proxy is Ytilde = Y E;
#   4. Mode A: the outer weight of item k of block j is the weighted covariance of Z_k and Ytilde_j;
#      back to 2 until the sum of absolute changes of the outer weights is below TOL (default 1e-12);
#   5. paths: weighted least squares (lm(weights = w)) of each endogenous score on its predecessors;
#      loadings: weighted correlations of the items with their construct's score.
# References: Lohmoeller, J.-B. (1989). Latent Variable Path Modeling with Partial Least Squares;
# Tenenhaus et al. (2005), CSDA 48, 159-205; Becker & Ismail (2016), EMJ 34, 606-617 (weighted PLS).
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE)
blocks <- read.csv(args[2], stringsAsFactors = FALSE)
paths <- read.csv(args[3], stringsAsFactors = FALSE)
tol <- if (length(args) >= 5) as.numeric(args[5]) else 1e-12
w <- d$w
sw <- sum(w)
wmean <- function(x) sum(w * x) / sw
wcov <- function(x, y) sum(w * (x - wmean(x)) * (y - wmean(y))) / (sw - 1)
wstd <- function(x) (x - wmean(x)) / sqrt(wcov(x, x))

constructs <- unique(c(paths$source, paths$target))
items <- blocks$item[blocks$construct %in% constructs]
block_of <- setNames(blocks$construct, blocks$item)[items]
Z <- sapply(items, function(i) wstd(d[[i]]))
W <- matrix(0, length(items), length(constructs), dimnames = list(items, constructs))
for (k in items) W[k, block_of[[k]]] <- 1

scores <- function(W) {
  Y <- Z %*% W
  for (j in constructs) Y[, j] <- Y[, j] / sqrt(wcov(Y[, j], Y[, j]))
  Y
}
wls <- function(y, X) {  # weighted least-squares slopes of y on the columns of X (with an intercept)
  fit <- lm.wfit(cbind(1, X), y, w)
  unname(fit$coefficients[-1])
}
for (it in 1:1000) {
  Y <- scores(W)
  W <- sweep(W, 2, sapply(constructs, function(j) sqrt(wcov(Z %*% W[, j], Z %*% W[, j]))), "/")
  E <- matrix(0, length(constructs), length(constructs), dimnames = list(constructs, constructs))
  for (j in constructs) {
    pred <- paths$source[paths$target == j]
    succ <- paths$target[paths$source == j]
    if (length(pred)) E[pred, j] <- wls(Y[, j], Y[, pred, drop = FALSE])
    for (s in succ) E[s, j] <- wcov(Y[, j], Y[, s])  # unit variances: the weighted correlation
  }
  proxy <- Y %*% E
  W_new <- W * 0
  for (k in items) W_new[k, block_of[[k]]] <- wcov(Z[, k], proxy[, block_of[[k]]])
  W_new <- sweep(W_new, 2, sapply(constructs, function(j) sqrt(wcov(Z %*% W_new[, j], Z %*% W_new[, j]))), "/")
  change <- sum(abs(W_new - W))
  W <- W_new
  if (change < tol) break
}
if (change >= tol) stop("weighted PLS did not converge")
Y <- scores(W)
out <- data.frame(parameter = character(), source = character(), target = character(), value = numeric())
for (j in unique(paths$target)) {
  pred <- paths$source[paths$target == j]
  b <- wls(Y[, j], Y[, pred, drop = FALSE])
  out <- rbind(out, data.frame(parameter = "path", source = pred, target = j, value = b))
}
for (k in items) {
  j <- block_of[[k]]
  out <- rbind(out, data.frame(parameter = "loading", source = j, target = k,
                               value = wcov(Z[, k], Y[, j]) / sqrt(wcov(Z[, k], Z[, k]) * wcov(Y[, j], Y[, j]))))
  out <- rbind(out, data.frame(parameter = "weight", source = j, target = k, value = W[k, j]))
}
write.csv(out, args[4], row.names = FALSE)
cat("iterations", it, "\n")
