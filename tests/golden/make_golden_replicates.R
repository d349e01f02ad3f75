# Golden file for replicate-weight variance, computed with R survey (see survey_version.txt).
#
# Output (full precision, %.17g): replicates.csv — on survey.csv (make_input.py) with x as in
# make_golden_statistics.R, for as.svrepdesign(design, type = "JK1" | "JKn") of the unraked design (JK1: clusters
# without strata, as R allows it only there; JKn: neighbourhoods as strata), and of the
# same replicate design raked by rake() (which re-rakes every replicate) to neighbourhood x sex and
# neighbourhood x age_group, lonely.psu = "adjust": svymean(~safe_dark), svymean(~x) and svytotal(~x)
# (na.rm) per group of overall / neighbourhood / sex on subset(design, !is.na(y) & group): estimate and SE.
# The neighbourhood with a single PSU is left out (a replicate deleting it empties raking cells: R gives NaN).
#
# Run from the repository root:  Rscript tests/golden/make_golden_replicates.R

suppressMessages(library(survey))
here <- "tests/golden"
full <- function(x) unname(ifelse(is.na(x), "NA", sprintf("%.17g", x)))
tight <- list(maxit = 100, epsilon = 1e-12)
options(survey.lonely.psu = "adjust")
d <- read.csv(file.path(here, "survey.csv"), stringsAsFactors = FALSE)
d$x <- ifelse(is.na(d$safe_dark), NA, ((d$id * 37) %% 101) / 10)
m_sex <- read.csv(file.path(here, "margins_sex.csv")); names(m_sex)[names(m_sex) == "population"] <- "Freq"
m_age <- read.csv(file.path(here, "margins_age.csv")); names(m_age)[names(m_age) == "population"] <- "Freq"
# a replicate that deletes the only PSU of a neighbourhood leaves raking cells empty, which R cannot rake (NaN):
# the neighbourhood with a single PSU is left out here (and from the margins)
lonely <- names(which(tapply(d$psu, d$neighbourhood, function(p) length(unique(p))) == 1))
d <- d[!d$neighbourhood %in% lonely, ]
m_sex <- m_sex[!m_sex$neighbourhood %in% lonely, ]
m_age <- m_age[!m_age$neighbourhood %in% lonely, ]
d$cluster <- paste(d$neighbourhood, d$psu)
stratified <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~design_weight, nest = TRUE, data = d)
unstratified <- svydesign(ids = ~cluster, weights = ~design_weight, data = d)  # JK1 is for unstratified designs
rows <- list()
for (type in c("JK1", "JKn")) {
  rep <- as.svrepdesign(if (type == "JK1") unstratified else stratified, type = type)
  designs <- list(unraked = rep,
                  raked = rake(rep, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age),
                               control = tight))
  for (dname in names(designs)) {
    design <- designs[[dname]]
    for (by in c("overall", "neighbourhood", "sex")) {
      levels <- if (by == "overall") "all" else sort(unique(d[[by]]))
      for (g in levels) {
        member <- if (by == "overall") rep(TRUE, nrow(d)) else d[[by]] == g
        for (stat in c("proportion", "mean", "total")) {
          y <- if (stat == "proportion") "safe_dark" else "x"
          sel <- !is.na(d[[y]]) & member
          sub <- design[sel, ]
          f <- as.formula(paste0("~", y))
          r <- if (stat == "total") svytotal(f, sub, na.rm = TRUE) else svymean(f, sub, na.rm = TRUE)
          rows[[length(rows) + 1]] <- data.frame(type = type, design = dname, statistic = stat, by = by, group = g,
                                                 estimate = full(coef(r)), se = full(SE(r)), n = sum(sel))
        }
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(here, "replicates.csv"), row.names = FALSE, quote = FALSE)
