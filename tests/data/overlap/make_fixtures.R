# Reference values for the partially overlapping samples tests (analysis.compare).
# Run: Rscript tests/data/overlap/make_fixtures.R   (from the repository root; base R only)
#
# CRAN's Partiallyoverlapping is not packaged for Debian, so this script implements the
# published formulas directly, independently of the Python code:
#   t-test: Derrick, Toher & White (2017), The Quantitative Methods for Psychology 13(2), 120-126,
#           T_new1 (equal variances) and T_new2 (Welch type), with their degrees of freedom;
#   z-test: Derrick, Dobson-McKittrick, Toher & White (2015), Journal of Applied Quantitative
#           Methods 10(3): z with the pooled proportion and the phi correlation of the pairs.
# Writes inputs.csv (case, part x1..x4, value) and expected.csv (one row per case and test).

out <- if (dir.exists("tests/data/overlap")) "tests/data/overlap" else "."

po_t <- function(x1, x2, x3, x4, var_equal = FALSE, conf = 0.95) {
  s1 <- c(x1, x3); s2 <- c(x2, x4)
  n1 <- length(s1); n2 <- length(s2); nc <- length(x3); na <- length(x1); nb <- length(x2)
  r <- if (sd(x3) == 0 || sd(x4) == 0) 0 else cor(x3, x4)
  est <- mean(s1) - mean(s2)
  if (var_equal) {
    sp <- sqrt(((n1 - 1) * var(s1) + (n2 - 1) * var(s2)) / (n1 + n2 - 2))
    se <- sp * sqrt(1 / n1 + 1 / n2 - 2 * r * nc / (n1 * n2))
    gamma <- n1 + n2 - 2
  } else {
    se <- sqrt(var(s1) / n1 + var(s2) / n2 - 2 * r * sd(s1) * sd(s2) * nc / (n1 * n2))
    gamma <- (var(s1) / n1 + var(s2) / n2)^2 /
      ((var(s1) / n1)^2 / (n1 - 1) + (var(s2) / n2)^2 / (n2 - 1))
  }
  df <- (nc - 1) + (gamma - nc + 1) * (na + nb) / (na + nb + 2 * nc)
  t <- est / se
  q <- qt(1 - (1 - conf) / 2, df)
  c(estimate = est, se = se, statistic = t, df = df, p = 2 * pt(-abs(t), df),
    ci_low = est - q * se, ci_high = est + q * se)
}

po_z <- function(x1, x2, x3, x4, conf = 0.95) {
  s1 <- c(x1, x3); s2 <- c(x2, x4)
  n1 <- length(s1); n2 <- length(s2); nc <- length(x3)
  r <- if (sd(x3) == 0 || sd(x4) == 0) 0 else cor(x3, x4)
  p1 <- mean(s1); p2 <- mean(s2)
  pbar <- (n1 * p1 + n2 * p2) / (n1 + n2)
  w <- pbar * (1 - pbar)
  se <- sqrt(w / n1 + w / n2 - 2 * r * w * nc / (n1 * n2))
  est <- p1 - p2
  z <- est / se
  q <- qnorm(1 - (1 - conf) / 2)
  c(estimate = est, se = se, statistic = z, df = NA, p = 2 * pnorm(-abs(z)),
    ci_low = est - q * se, ci_high = est + q * se)
}

cases <- list()
# the published example (Derrick, Toher & White 2017): p = 0.026 with equal variances
cases$published <- list(x1 = c(20, 21, 16, 18, 14, 12, 14, 17), x2 = c(10, 16, 18, 16, 15, 14, 13, 10),
                        x3 = c(14, 15, 18, 20, 11, 19, 14, 15), x4 = c(15, 10, 15, 17, 13, 19, 12, 13))
set.seed(20171201)
for (k in 1:4) {  # survey-like 1-7 answers, correlated within customer, overlap 10-60%
  na <- c(40, 120, 15, 300)[k]; nb <- c(55, 90, 25, 260)[k]; nc <- c(12, 60, 30, 150)[k]
  latent <- rnorm(nc)
  clip <- function(v) pmin(7, pmax(1, round(v)))
  cases[[paste0("survey", k)]] <- list(
    x1 = clip(5 + 1.2 * rnorm(na) + 0.3), x2 = clip(5 + 1.4 * rnorm(nb)),
    x3 = clip(5.3 + latent + 0.8 * rnorm(nc)), x4 = clip(5 + latent + 0.9 * rnorm(nc)))
}
# 0/1 cases: the published example of Derrick et al. (2015) (p = 0.053) and random ones
bin <- list()
bin$published <- list(x1 = c(1, 1, 1, 1, 1, 0, 0, 0, 0), x2 = c(1, 1, 1, 1, 1, 1),
                      x3 = c(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0),
                      x4 = c(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0))
for (k in 1:3) {
  na <- c(50, 200, 30)[k]; nb <- c(70, 150, 40)[k]; nc <- c(25, 100, 60)[k]
  u <- runif(nc)
  bin[[paste0("binary", k)]] <- list(
    x1 = as.numeric(runif(na) < 0.7), x2 = as.numeric(runif(nb) < 0.6),
    x3 = as.numeric(u < 0.72), x4 = as.numeric(ifelse(runif(nc) < 0.7, u < 0.65, runif(nc) < 0.65)))
}

long <- function(cs, prefix) do.call(rbind, lapply(names(cs), function(nm) {
  do.call(rbind, lapply(c("x1", "x2", "x3", "x4"), function(p)
    data.frame(case = paste0(prefix, nm), part = p, value = cs[[nm]][[p]])))
}))
inputs <- rbind(long(cases, "t_"), long(bin, "z_"))
rows <- list()
for (nm in names(cases)) {
  d <- cases[[nm]]
  for (ve in c(FALSE, TRUE)) {
    v <- po_t(d$x1, d$x2, d$x3, d$x4, var_equal = ve)
    rows[[length(rows) + 1]] <- data.frame(case = paste0("t_", nm), test = "t", var_equal = ve, t(v))
  }
  # no overlap: Welch's t from base R's t.test on all observations
  w <- t.test(c(d$x1, d$x3), c(d$x2, d$x4))
  rows[[length(rows) + 1]] <- data.frame(case = paste0("t_", nm), test = "welch_no_overlap", var_equal = FALSE,
    estimate = unname(w$estimate[1] - w$estimate[2]), se = unname(w$stderr), statistic = unname(w$statistic),
    df = unname(w$parameter), p = w$p.value, ci_low = w$conf.int[1], ci_high = w$conf.int[2])
}
for (nm in names(bin)) {
  d <- bin[[nm]]
  v <- po_z(d$x1, d$x2, d$x3, d$x4)
  rows[[length(rows) + 1]] <- data.frame(case = paste0("z_", nm), test = "z", var_equal = FALSE, t(v))
}
expected <- do.call(rbind, rows)
write.csv(inputs, file.path(out, "inputs.csv"), row.names = FALSE)
write.csv(format(expected, digits = 15), file.path(out, "expected.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("published t (equal var): p = %.4f; published z: p = %.4f\n",
            expected$p[expected$case == "t_published" & expected$test == "t" & expected$var_equal],
            expected$p[expected$case == "z_published"]))
