# Reference p-values of segmented::davies.test (R) for tests/test_zones.py.
# Run from this folder: Rscript davies.R  (R 4.2.2, segmented 1.6-2, Debian r-cran-segmented).
# Writes the simulated data sets (data_<name>.csv: sat, loyalty) and davies_reference.csv
# (name, n, p, best: the p-value and the best evaluation point of davies.test with its
# defaults k = 10, two-sided, on lm(loyalty ~ sat)). R need not run in CI: the CSVs are committed.
library(segmented)
set.seed(7)
sim <- list()
x <- sample(1:7, 120, replace = TRUE)
sim$line_n120 <- data.frame(sat = x, loyalty = round(2 + 0.5 * x + rnorm(120, 0, 1), 2))
x <- sample(1:10, 200, replace = TRUE)
sim$kink_n200 <- data.frame(sat = x, loyalty = round(4 + 1.0 * pmax(x - 6, 0) + rnorm(200, 0, 1), 2))
x <- sample(1:10, 250, replace = TRUE)
sim$weak_n250 <- data.frame(sat = x, loyalty = round(5 + 0.2 * x + 0.25 * pmax(x - 5, 0) + rnorm(250, 0, 1.2), 2))
x <- sample(1:5, 600, replace = TRUE)
sim$line_n600 <- data.frame(sat = x, loyalty = round(1 + 0.6 * x + rnorm(600, 0, 0.9), 2))
x <- sample(0:10, 900, replace = TRUE)
sim$kink_n900 <- data.frame(sat = x, loyalty = round(3 + 0.1 * x + 0.5 * pmax(x - 7, 0) + rnorm(900, 0, 1.5), 2))
out <- NULL
for (name in names(sim)) {
  d <- sim[[name]]
  write.csv(d, sprintf("data_%s.csv", name), row.names = FALSE)
  fit <- lm(loyalty ~ sat, data = d)
  dt <- davies.test(fit, ~sat)
  out <- rbind(out, data.frame(name = name, n = nrow(d), p = dt$p.value, best = unname(dt$statistic)))
}
# the ECSI mobile-phone survey (tests/data/ecsi-mobi): overall satisfaction CUSA1, loyalty = mean of CUSL1-3
mobi <- read.csv("../ecsi-mobi/mobi.csv")
d <- data.frame(sat = mobi$CUSA1, loyalty = rowMeans(mobi[, c("CUSL1", "CUSL2", "CUSL3")]))
dt <- davies.test(lm(loyalty ~ sat, data = d), ~sat)
out <- rbind(out, data.frame(name = "mobi", n = nrow(d), p = dt$p.value, best = unname(dt$statistic)))
write.csv(out, "davies_reference.csv", row.names = FALSE)
print(out, digits = 12)
