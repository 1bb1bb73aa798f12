# Reference for tests/test_weighting.py: R survey (Debian r-cran-survey) on its bundled apistrat data.
# Run: Rscript apistrat.R OUT_DIR. Writes apistrat.csv (the data, with an item that has missing answers)
# and reference.csv (case, quantity, value): raked weights relative to their mean, svymean and its SE,
# svyciprop(logit) intervals (whole sample and stype domains), domain differences (svyglm), for
#   A: unit design weights, rake stype + sch.wide (the csat-lab case: no design weights)
#   B: design weights pw, rake sch.wide + awards (pw varies within the margins)
#   C: unit weights, bounded raking calibrate(calfun = "raking", bounds) on stype + sch.wide (g near 1)
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
data(api)
d0 <- apistrat
d0$y <- ifelse(d0$snum %% 7 == 0, NA, d0$api00)            # an item with missing answers
d0$top <- as.numeric(d0$api00 >= 700)                      # a top-box style 0/1 item
d0$one <- 1
d0$schwide <- d0$sch.wide
write.csv(d0[, c("snum", "stype", "schwide", "awards", "pw", "api00", "y", "top")], file.path(out, "apistrat.csv"),
          row.names = FALSE)
rows <- list()
add <- function(case, quantity, value) rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, value = as.numeric(value))
ctl <- list(maxit = 1000, epsilon = 1e-13)
report <- function(case, r) {
  w <- weights(r)
  for (i in seq_along(w)) add(case, paste0("w", i), w[i] / mean(w))
  for (v in c("api00", "y", "top")) {
    m <- svymean(as.formula(paste0("~", v)), r, na.rm = TRUE)
    add(case, paste0("mean_", v), coef(m)); add(case, paste0("se_", v), SE(m))
  }
  ci <- svyciprop(~top, r, method = "logit")
  add(case, "ciprop_low", attr(ci, "ci")[1]); add(case, "ciprop_high", attr(ci, "ci")[2])
}
# A: unit weights, shares stype 0.70/0.12/0.18, sch.wide 0.2/0.8
N <- nrow(d0)
dA <- svydesign(ids = ~1, weights = ~one, data = d0)
rA <- rake(dA, list(~stype, ~schwide),
           list(data.frame(stype = c("E", "H", "M"), Freq = N * c(0.70, 0.12, 0.18)),
                data.frame(schwide = c("No", "Yes"), Freq = N * c(0.2, 0.8))), control = ctl)
report("A", rA)
# A, design-based group tests: Wald F of svyglm(y ~ group) (regTermTest) and the pairwise t of a coefficient
for (v in c("api00", "y")) {
  for (g in c("stype", "awards")) {
    m <- svyglm(as.formula(paste0(v, " ~ ", g)), rA)
    tt <- regTermTest(m, as.formula(paste0("~", g)))
    add("A", paste0("waldF_", v, "_", g), tt$Ftest); add("A", paste0("waldp_", v, "_", g), tt$p)
    add("A", paste0("waldddf_", v, "_", g), tt$ddf)
  }
  m <- svyglm(as.formula(paste0(v, " ~ stype")), rA)
  add("A", paste0("t_EvsH_", v), -coef(summary(m))["stypeH", "t value"])
  add("A", paste0("p_EvsH_", v), coef(summary(m))["stypeH", "Pr(>|t|)"])
}
# A, domains: the share of top within each stype (svymean on the subset, svyciprop logit), and the
# difference Yes - No of the awards domain means of api00 and y, its SE and p (svyglm on the awards dummy)
for (g in c("E", "H", "M")) {
  s <- subset(rA, stype == g)
  m <- svymean(~top, s)
  add("A", paste0("dmean_top_", g), coef(m)); add("A", paste0("dse_top_", g), SE(m))
  ci <- svyciprop(~top, s, method = "logit")
  add("A", paste0("dci_low_", g), attr(ci, "ci")[1]); add("A", paste0("dci_high_", g), attr(ci, "ci")[2])
}
for (v in c("api00", "y")) {  # svyby(covmat = TRUE) fails on this raked design; the dummy's coefficient is the same
  m <- coef(summary(svyglm(as.formula(paste0(v, " ~ awards")), rA)))
  add("A", paste0("ddiff_", v), m["awardsYes", "Estimate"]); add("A", paste0("ddiff_se_", v), m["awardsYes", "Std. Error"])
  add("A", paste0("ddiff_p_", v), m["awardsYes", "Pr(>|t|)"])
}
# B: design weights pw, shares sch.wide 0.25/0.75, awards 0.4/0.6
NB <- sum(d0$pw)
dB <- svydesign(ids = ~1, weights = ~pw, data = d0)
rB <- rake(dB, list(~schwide, ~awards),
           list(data.frame(schwide = c("No", "Yes"), Freq = NB * c(0.25, 0.75)),
                data.frame(awards = c("No", "Yes"), Freq = NB * c(0.4, 0.6))), control = ctl)
report("B", rB)
# C: bounded raking, unit weights, mild targets so g stays near 1 (R reports failure when g is far from 1)
pop <- c(`(Intercept)` = N, stypeH = N * 0.22, stypeM = N * 0.24, schwideYes = N * 0.74)
rC0 <- calibrate(dA, ~stype + schwide, pop, calfun = "raking"); print(range(weights(rC0)))
rC <- calibrate(dA, ~stype + schwide, pop, calfun = "raking", bounds = c(0.8, 1.25), maxit = 1000, epsilon = 1e-13)
report("C", rC)
write.csv(do.call(rbind, rows), file.path(out, "reference.csv"), row.names = FALSE)
