# Reference omega squared (and Welch F) for tests/test_compare.py (issue 11, 6f).
# Rscript omega.R  ->  omega_reference.csv   (R 4.x, effectsize 0.8.3 = Debian r-cran-effectsize)
library(effectsize)
out <- do.call(rbind, lapply(c("groups4.csv", "groups3.csv"), function(f) {
  d <- read.csv(f)
  d$g <- factor(d$g)
  fit <- aov(y ~ g, data = d)
  w <- oneway.test(y ~ g, data = d, var.equal = FALSE)
  data.frame(
    file = f,
    omega_squared = omega_squared(fit, partial = FALSE, ci = NULL)$Omega2,
    welch_f = unname(w$statistic), welch_df2 = unname(w$parameter[2]), welch_p = w$p.value
  )
}))
write.csv(out, "omega_reference.csv", row.names = FALSE)
print(out, digits = 15)
