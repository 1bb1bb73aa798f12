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
# change_reference.csv: two waves' counts; difference of shares with Newcombe's hybrid score interval
# (method 10, from the two Wilson intervals) and the pooled two-proportion test (prop.test, no correction).
ch <- data.frame(k1 = c(30, 166, 5), n1 = c(200, 761, 40), k0 = c(45, 167, 5), n0 = c(210, 754, 60))
rows <- lapply(seq_len(nrow(ch)), function(i) {
  k1 <- ch$k1[i]; n1 <- ch$n1[i]; k0 <- ch$k0[i]; n0 <- ch$n0[i]
  p1 <- k1 / n1; p0 <- k0 / n0
  w1 <- prop.test(k1, n1, correct = FALSE)$conf.int; w0 <- prop.test(k0, n0, correct = FALSE)$conf.int
  d <- p1 - p0
  lo <- d - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2)
  hi <- d + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2)
  p <- prop.test(c(k1, k0), c(n1, n0), correct = FALSE)$p.value
  data.frame(k1, n1, k0, n0, diff = d, ci_low = lo, ci_high = hi, p = p)
})
write.csv(do.call(rbind, rows), "change_reference.csv", row.names = FALSE)
# mean_ci_reference.csv: t interval of the mean of group a's ratings (t.test)
ci <- t.test(a)$conf.int
write.csv(data.frame(mean = mean(a), ci_low = ci[1], ci_high = ci[2]), "mean_ci_reference.csv", row.names = FALSE)
