# Reference for tests/test_weighting_mobi.py: weighted reliability and loyalty breakpoint in base R.
# Run: Rscript reliability_breakpoint.R IN.csv OUT.csv
#   IN.csv   the mobi items and a column `w` of case weights (raked, non-integer)
#   OUT.csv  quantity, value:
#     alpha_<block>       Cronbach's alpha from cov.wt(x, w)$cov: k/(k-1) (1 - tr(C)/sum(C)) (Cronbach 1951)
#     rest_<item>         item-rest correlation cov.wt(cbind(x_j, rest), w, cor = TRUE)$cor[1, 2]
#     bp_c, bp_b0, bp_b1, bp_b2, bp_sse
#                         loyalty CUSL1 on satisfaction CUSA1: the break c minimising the weighted SSE of
#                         lm(y ~ s + pmax(s - c, 0), weights = w) over the grid from the 2nd to the
#                         second-last observed level in steps of 0.1; its coefficients and weighted SSE
#     lin_slope           lm(y ~ s, weights = w) slope
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
w <- d$w
out <- data.frame(quantity = character(), value = numeric())
add <- function(q, v) out <<- rbind(out, data.frame(quantity = q, value = v))
blocks <- list(Image = paste0("IMAG", 1:5), Quality = paste0("PERQ", 1:7), Loyalty = paste0("CUSL", 1:3))
for (b in names(blocks)) {
  x <- as.matrix(d[, blocks[[b]]])
  C <- cov.wt(x, w)$cov
  k <- ncol(x)
  add(paste0("alpha_", b), k / (k - 1) * (1 - sum(diag(C)) / sum(C)))
  for (j in seq_len(k)) {
    rest <- rowSums(x[, -j, drop = FALSE])
    add(paste0("rest_", colnames(x)[j]), cov.wt(cbind(x[, j], rest), w, cor = TRUE)$cor[1, 2])
  }
}
s <- d$CUSA1; y <- d$CUSL1
lev <- sort(unique(s))
grid <- round(seq(lev[2], lev[length(lev) - 1] + 0.05, by = 0.1), 10)
grid <- grid[grid <= lev[length(lev) - 1] + 1e-9]
sse <- sapply(grid, function(c) { f <- lm(y ~ s + pmax(s - c, 0), weights = w); sum(w * residuals(f)^2) })
c_hat <- grid[which.min(sse)]
f <- lm(y ~ s + pmax(s - c_hat, 0), weights = w)
add("bp_c", c_hat); add("bp_b0", coef(f)[1]); add("bp_b1", coef(f)[2]); add("bp_b2", coef(f)[3])
add("bp_sse", sum(w * residuals(f)^2))
add("lin_slope", coef(lm(y ~ s, weights = w))[2])
write.csv(out, args[2], row.names = FALSE)
