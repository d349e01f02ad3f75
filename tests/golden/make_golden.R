# Golden files for the analysis engine, computed with R survey (4.1.1 when written; see survey_version.txt).
#
# Input: survey.csv, margins_sex.csv, margins_age.csv (written by make_input.py, fixed seed).
# Output (full precision, %.17g):
#   weights.csv    design, raked (rake to neighbourhood x sex and neighbourhood x age_group, tight epsilon),
#                  post-stratified (neighbourhood x sex) and post-stratified-then-raked (on neighbourhood x age)
#                  weights per respondent id;
#   estimates.csv  for each design (unraked / raked / poststratified / poststratified_raked) x lonely.psu
#                  (adjust / certainty / remove)
#                  x indicator x breakdown x group: svymean estimate and SE, deff (svymean deff=TRUE), degf of the
#                  domain, nrow of the domain design, and svyciprop intervals: logit (svyglm), xlogit (closed
#                  form), beta (Korn-Graubard);
#   lonely_fail.txt  R's error under options(survey.lonely.psu = "fail");
#   composites.csv the plan composites (analysis/pipeline.py, plan composites_plan.toml) on the raked design,
#                  lonely.psu = "adjust": each respondent's score (16.7.2: mean of the say and influence answers,
#                  valid on both; 16.6.2 health: mean of the five attributes each user rated, DK / not applicable
#                  / refused left out) and svymean(~score, subset(raked, !is.na(score) & group), deff=TRUE),
#                  i.e. estimate, SE, deff, degf and n per breakdown group.
# Domains follow R: subset(design, !is.na(y) & domain & group), i.e. the base of the indicator within the group,
# on the full design (calibrated designs keep every row with zero weight; uncalibrated ones drop rows but keep the
# full-design PSU counts).
#
# Run from the repository root:  Rscript tests/golden/make_golden.R

suppressMessages(library(survey))
here <- "tests/golden"
d <- read.csv(file.path(here, "survey.csv"), stringsAsFactors = FALSE)
d$contact <- as.logical(d$contact)
m_sex <- read.csv(file.path(here, "margins_sex.csv"), stringsAsFactors = FALSE)
m_age <- read.csv(file.path(here, "margins_age.csv"), stringsAsFactors = FALSE)
names(m_sex)[names(m_sex) == "population"] <- "Freq"
names(m_age)[names(m_age) == "population"] <- "Freq"

full <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
tight <- list(maxit = 100, epsilon = 1e-12)

designs <- function() {
  des <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~design_weight, nest = TRUE, data = d)
  list(
    unraked = des,
    raked = rake(des, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age), control = tight),
    poststratified = postStratify(des, ~neighbourhood + sex, m_sex),
    poststratified_raked = rake(postStratify(des, ~neighbourhood + sex, m_sex), list(~neighbourhood + age_group),
                                list(m_age), control = tight)
  )
}

ds <- designs()
write.csv(data.frame(id = d$id, design = full(weights(ds$unraked)), raked = full(weights(ds$raked)),
                     poststratified = full(weights(ds$poststratified)),
                     poststratified_raked = full(weights(ds$poststratified_raked))),
          file.path(here, "weights.csv"), row.names = FALSE, quote = FALSE)

indicators <- list(safe_dark = NULL, victim = NULL, reported = NULL, bribe = "contact", rare = NULL)
breakdowns <- list(overall = NULL, neighbourhood = "neighbourhood", sex = "sex", age_group = "age_group",
                   disability = "disability", neighbourhood_sex = c("neighbourhood", "sex"))

one <- function(design, y, sel, nrow_all) {
  sub <- design[sel, ]
  f <- as.formula(paste0("~", y))
  m <- svymean(f, sub, na.rm = TRUE, deff = TRUE)
  ci <- function(method) {
    r <- tryCatch(attr(svyciprop(f, sub, method = method, na.rm = TRUE), "ci"), error = function(e) c(NA, NA))
    as.numeric(r)
  }
  lg <- ci("logit"); xl <- ci("xlogit"); bt <- ci("beta")
  c(estimate = unname(coef(m)), se = unname(SE(m)), deff = unname(deff(m)), df = degf(sub), nrow = nrow(sub),
    n = sum(sel), population = sum(weights(design)[sel]),
    logit_low = lg[1], logit_high = lg[2], xlogit_low = xl[1], xlogit_high = xl[2], beta_low = bt[1], beta_high = bt[2])
}

rows <- list()
for (lonely in c("adjust", "certainty", "remove")) {
  options(survey.lonely.psu = lonely)
  for (dname in names(ds)) {
    design <- ds[[dname]]
    for (y in names(indicators)) {
      base <- !is.na(d[[y]])
      if (!is.null(indicators[[y]])) base <- base & d[[indicators[[y]]]]
      for (bname in names(breakdowns)) {
        vars <- breakdowns[[bname]]
        if (is.null(vars)) {
          keys <- data.frame(area = "", group = "all")
          member <- list(rep(TRUE, nrow(d)))
        } else if (length(vars) == 1) {
          levels <- sort(unique(d[[vars]]))
          keys <- data.frame(area = "", group = levels)
          member <- lapply(levels, function(l) d[[vars]] == l)
        } else {
          pairs <- unique(d[, vars]); pairs <- pairs[order(pairs[[1]], pairs[[2]]), ]
          keys <- data.frame(area = pairs[[1]], group = pairs[[2]])
          member <- lapply(seq_len(nrow(pairs)), function(i) d[[vars[1]]] == pairs[[1]][i] & d[[vars[2]]] == pairs[[2]][i])
        }
        by <- if (is.null(vars)) "overall" else vars[length(vars)]
        for (k in seq_len(nrow(keys))) {
          sel <- base & member[[k]]
          if (sum(sel) == 0) next
          r <- suppressWarnings(one(design, y, sel))
          rows[[length(rows) + 1]] <- data.frame(design = dname, lonely = lonely, indicator = y, by = by,
                                                 area = keys$area[k], group = keys$group[k], t(full(r)))
        }
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(here, "estimates.csv"), row.names = FALSE, quote = FALSE)

# ---- composites: the respondent score, computed here from the answers (choice names), not by our code
share01 <- function(x, success, excluded) ifelse(is.na(x) | x %in% excluded, NA, as.numeric(x %in% success))
say <- share01(d$say_in_government, c("some", "a_lot", "a_great_deal"), c("dont_know", "refused"))
influence <- share01(d$influence_on_politics, c("some", "a_lot", "a_great_deal"), c("dont_know", "refused"))
attributes <- sapply(c("access", "affordability", "quality", "courtesy", "timeliness"), function(a)
  share01(d[[paste0("health_", a)]], c("strongly_agree", "agree"), c("dont_know", "not_applicable", "refused")))
rated <- rowSums(!is.na(attributes))
scores <- list("16.7.2" = (say + influence) / 2,
               "16.6.2.health" = ifelse(d$used_health_12m == "yes" & rated > 0, rowMeans(attributes, na.rm = TRUE), NA))
options(survey.lonely.psu = "adjust")
raked <- ds$raked
comp <- list()
for (ind in names(scores)) {
  raked$variables$score <- scores[[ind]]
  valid <- !is.na(scores[[ind]])
  for (bname in c("overall", "neighbourhood", "sex", "age_group", "neighbourhood_sex")) {
    vars <- breakdowns[[bname]]
    if (is.null(vars)) {
      keys <- data.frame(area = "", group = "all"); member <- list(rep(TRUE, nrow(d)))
    } else if (length(vars) == 1) {
      levels <- sort(unique(d[[vars]])); keys <- data.frame(area = "", group = levels)
      member <- lapply(levels, function(l) d[[vars]] == l)
    } else {
      pairs <- unique(d[, vars]); pairs <- pairs[order(pairs[[1]], pairs[[2]]), ]
      keys <- data.frame(area = pairs[[1]], group = pairs[[2]])
      member <- lapply(seq_len(nrow(pairs)), function(i) d[[vars[1]]] == pairs[[1]][i] & d[[vars[2]]] == pairs[[2]][i])
    }
    for (k in seq_len(nrow(keys))) {
      sel <- valid & member[[k]]
      if (sum(sel) == 0) next
      sub <- raked[sel, ]
      m <- svymean(~score, sub, na.rm = TRUE, deff = TRUE)
      r <- c(estimate = unname(coef(m)), se = unname(SE(m)), deff = unname(deff(m)), df = degf(sub), n = sum(sel))
      comp[[length(comp) + 1]] <- data.frame(indicator = ind, by = if (is.null(vars)) "overall" else vars[length(vars)],
                                             area = keys$area[k], group = keys$group[k], t(full(r)))
    }
  }
}
write.csv(do.call(rbind, comp), file.path(here, "composites.csv"), row.names = FALSE, quote = FALSE)

options(survey.lonely.psu = "fail")
msg <- tryCatch({svymean(~rare, ds$unraked); "no error"}, error = function(e) conditionMessage(e))
writeLines(msg, file.path(here, "lonely_fail.txt"))
writeLines(as.character(packageVersion("survey")), file.path(here, "survey_version.txt"))
