# Reference values for tests/test_comments.py, made with R (stats package):
#   cd tests/data/comments && Rscript reference.R
# wilson_reference.csv: Wilson score interval (prop.test without continuity correction) of k out of n.
# welch_data.csv / welch_reference.csv: two groups of ratings (simulated, set.seed(11)) and Welch's t-test.
cases <- data.frame(k = c(0, 1, 7, 20, 50, 133, 300), n = c(10, 10, 40, 20, 120, 754, 1000))
ci <- t(mapply(function(k, n) prop.test(k, n, correct = FALSE)$conf.int, cases$k, cases$n))
write.csv(data.frame(cases, ci_low = ci[, 1], ci_high = ci[, 2]), "wilson_reference.csv", row.names = FALSE)
set.seed(11)
a <- sample(1:7, 37, replace = TRUE, prob = c(.05, .05, .1, .2, .25, .2, .15))
b <- sample(1:7, 160, replace = TRUE, prob = c(.01, .02, .05, .12, .3, .3, .2))
write.csv(data.frame(group = c(rep("a", length(a)), rep("b", length(b))), rating = c(a, b)),
          "welch_data.csv", row.names = FALSE)
tt <- t.test(a, b, var.equal = FALSE)
write.csv(data.frame(t = unname(tt$statistic), df = unname(tt$parameter), p = tt$p.value),
          "welch_reference.csv", row.names = FALSE)
