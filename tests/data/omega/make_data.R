# Simulated group data for the omega-squared test (issue 11, 6f); run once, output committed.
set.seed(20261201)
spec <- data.frame(g = c("A", "B", "C", "D"), n = c(12, 40, 25, 8), mu = c(3.0, 3.6, 3.3, 4.2), sd = c(0.4, 1.5, 0.8, 2.0))
d <- do.call(rbind, lapply(seq_len(nrow(spec)), function(i) {
  data.frame(g = spec$g[i], y = pmin(7, pmax(1, round(rnorm(spec$n[i], spec$mu[i], spec$sd[i]) * 4) / 4)))
}))
write.csv(d, "groups4.csv", row.names = FALSE)
e <- data.frame(g = rep(c("x", "y", "z"), each = 30), y = round(rnorm(90, rep(c(5, 5.4, 6), each = 30), c(rep(0.8, 30), rep(1, 30), rep(1.3, 30))), 2))
write.csv(e, "groups3.csv", row.names = FALSE)
