# Reference for tests/test_weighting_mobi.py: R survey (Debian r-cran-survey) on the real ECSI mobi survey.
# Run: Rscript mobi.R IN.csv MARGINS.csv OUT.csv [DOMAIN_COLUMN DOMAIN_VALUE]
#   IN.csv       the cleaned rows: row, the margin segments, the items (NA = no answer)
#   MARGINS.csv  variable, group, target (population shares)
#   OUT.csv      quantity, item, value: weight (one per row, relative to the mean weight, by row),
#                mean and se of svymean(~item, raked, na.rm = TRUE) for every item; with a domain,
#                dmean and dse of svymean(~item, subset(raked, DOMAIN_COLUMN == DOMAIN_VALUE), na.rm = TRUE)
#                (domain estimation: the whole sample's raked weights, calibration-aware SE)
# The design: svydesign(ids = ~1, data = d) (equal starting weights), raked with
# rake(..., control = list(maxit = 1000, epsilon = 1e-12)) to N x target.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], check.names = FALSE, stringsAsFactors = FALSE, encoding = "UTF-8")
m <- read.csv(args[2], check.names = FALSE, stringsAsFactors = FALSE, encoding = "UTF-8")
N <- nrow(d)
des <- suppressWarnings(svydesign(ids = ~1, data = d))
vars <- unique(m$variable)
sample_margins <- lapply(vars, function(v) as.formula(paste0("~`", v, "`")))
population <- lapply(vars, function(v) {
  s <- m[m$variable == v, ]
  out <- data.frame(s$group, Freq = N * s$target, stringsAsFactors = FALSE)
  names(out)[1] <- v
  out
})
raked <- rake(des, sample_margins, population, control = list(maxit = 1000, epsilon = 1e-12))
w <- weights(raked)
rows <- data.frame(quantity = "weight", item = as.character(d$row), value = w / mean(w))
items <- setdiff(names(d), c("row", vars))
for (i in items) {
  est <- svymean(as.formula(paste0("~`", i, "`")), raked, na.rm = TRUE)
  rows <- rbind(rows, data.frame(quantity = c("mean", "se"), item = i, value = c(coef(est), SE(est))))
}
if (length(args) >= 5) {
  dom <- subset(raked, d[[args[4]]] == args[5])
  for (i in items) {
    est <- svymean(as.formula(paste0("~`", i, "`")), dom, na.rm = TRUE)
    rows <- rbind(rows, data.frame(quantity = c("dmean", "dse"), item = i, value = c(coef(est), SE(est))))
  }
}
write.csv(rows, args[3], row.names = FALSE, fileEncoding = "UTF-8")
