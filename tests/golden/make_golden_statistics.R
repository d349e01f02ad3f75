# Golden files for the engine's statistics beyond proportions, computed with R survey (see survey_version.txt).
#
# Output (full precision, %.17g):
#   apiclus1.csv, apistrat.csv  the columns of R survey's `api` samples the tests use;
#   api_estimates.csv  Lumley's examples with fpc: svymean / svytotal of api00 and enroll (deff=TRUE, degf) on
#                      svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1) (one-stage cluster, printed:
#                      mean api00 644.17, SE 23.542) and svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc,
#                      data=apistrat), overall and by stype (domains: subset());
#   statistics.csv     on survey.csv (make_input.py) with x = ((id * 37) %% 101) / 10, missing where safe_dark is
#                      missing: svymean(~x) and svytotal(~x) (deff=TRUE, degf) and svymean(~safe_dark), per
#                      design (unraked / raked) x lonely.psu (adjust / average / certainty) x
#                      survey.adjust.domain.lonely (FALSE / TRUE) x breakdown (overall / neighbourhood / sex /
#                      neighbourhood x sex / psu: block codes repeat across neighbourhoods, so a block's
#                      domain is one PSU in each of its strata), on subset(design, !is.na(y) & group);
#   composites_shares.csv  the average of component shares, each on its own base (mean_over = "shares"): on the
#                      raked design, svytotal of every component's (y * base, base) jointly, then
#                      svycontrast(mean of y_k / base_k) by the delta method, per group of overall /
#                      neighbourhood / sex / neighbourhood x sex, for 16.7.2 (say, influence) and 16.6.2 health
#                      (the five attributes among users).
#
# Run from the repository root:  Rscript tests/golden/make_golden_statistics.R

suppressMessages(library(survey))
here <- "tests/golden"
full <- function(x) unname(ifelse(is.na(x), "NA", sprintf("%.17g", x)))
tight <- list(maxit = 100, epsilon = 1e-12)

# ---- api samples with fpc
data(api)
write.csv(apiclus1[, c("cds", "dnum", "stype", "pw", "fpc", "api00", "enroll")], file.path(here, "apiclus1.csv"),
          row.names = FALSE)
write.csv(apistrat[, c("cds", "stype", "pw", "fpc", "api00", "enroll")], file.path(here, "apistrat.csv"),
          row.names = FALSE)
options(survey.lonely.psu = "adjust")
api_designs <- list(
  apiclus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  apistrat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat))
rows <- list()
for (dname in names(api_designs)) {
  des <- api_designs[[dname]]
  for (v in c("api00", "enroll")) {
    f <- as.formula(paste0("~", v))
    for (g in c("all", "E", "H", "M")) {
      sub <- if (g == "all") des else subset(des, stype == g)
      m <- svymean(f, sub, deff = TRUE); t <- svytotal(f, sub, deff = TRUE)
      for (stat in c("mean", "total")) {
        r <- if (stat == "mean") m else t
        ci <- confint(r, df = degf(sub))
        rows[[length(rows) + 1]] <- data.frame(design = dname, statistic = stat, variable = v,
          by = if (g == "all") "overall" else "stype", group = g, estimate = full(coef(r)), se = full(SE(r)),
          deff = full(deff(r)), df = degf(sub), ci_low = full(ci[1]), ci_high = full(ci[2]))
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(here, "api_estimates.csv"), row.names = FALSE, quote = FALSE)

# ---- means, totals and lonely-PSU rules on the synthetic survey
d <- read.csv(file.path(here, "survey.csv"), stringsAsFactors = FALSE)
d$x <- ifelse(is.na(d$safe_dark), NA, ((d$id * 37) %% 101) / 10)
m_sex <- read.csv(file.path(here, "margins_sex.csv")); names(m_sex)[names(m_sex) == "population"] <- "Freq"
m_age <- read.csv(file.path(here, "margins_age.csv")); names(m_age)[names(m_age) == "population"] <- "Freq"
des <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~design_weight, nest = TRUE, data = d)
designs <- list(unraked = des,
                raked = rake(des, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age),
                             control = tight))
breakdowns <- list(overall = NULL, neighbourhood = "neighbourhood", sex = "sex",
                   neighbourhood_sex = c("neighbourhood", "sex"), psu = "psu")
groups <- function(vars) {
  if (is.null(vars)) return(list(keys = data.frame(area = "", group = "all"), member = list(rep(TRUE, nrow(d)))))
  if (length(vars) == 1) {
    levels <- sort(unique(d[[vars]]))
    return(list(keys = data.frame(area = "", group = levels), member = lapply(levels, function(l) d[[vars]] == l)))
  }
  pairs <- unique(d[, vars]); pairs <- pairs[order(pairs[[1]], pairs[[2]]), ]
  list(keys = data.frame(area = pairs[[1]], group = pairs[[2]]),
       member = lapply(seq_len(nrow(pairs)), function(i) d[[vars[1]]] == pairs[[1]][i] & d[[vars[2]]] == pairs[[2]][i]))
}
rows <- list()
for (domain_lonely in c(FALSE, TRUE)) for (lonely in c("adjust", "average", "certainty")) {
  options(survey.lonely.psu = lonely, survey.adjust.domain.lonely = domain_lonely)
  for (dname in names(designs)) {
    design <- designs[[dname]]
    for (bname in names(breakdowns)) {
      gs <- groups(breakdowns[[bname]])
      for (k in seq_len(nrow(gs$keys))) {
        for (stat in c("mean", "total", "proportion")) {
          y <- if (stat == "proportion") "safe_dark" else "x"
          sel <- !is.na(d[[y]]) & gs$member[[k]]
          if (sum(sel) == 0) next
          sub <- design[sel, ]
          f <- as.formula(paste0("~", y))
          r <- suppressWarnings(if (stat == "total") svytotal(f, sub, deff = TRUE, na.rm = TRUE) else svymean(f, sub, deff = TRUE, na.rm = TRUE))
          rows[[length(rows) + 1]] <- data.frame(design = dname, lonely = lonely, domain_lonely = domain_lonely,
            statistic = stat, by = if (bname == "overall") "overall" else tail(breakdowns[[bname]], 1),
            area = gs$keys$area[k], group = gs$keys$group[k], estimate = full(coef(r)), se = full(SE(r)),
            deff = full(deff(r)), df = degf(sub), n = sum(sel))
        }
      }
    }
  }
}
write.csv(do.call(rbind, rows), file.path(here, "statistics.csv"), row.names = FALSE, quote = FALSE)

# ---- the average of component shares, each on its own base
options(survey.lonely.psu = "adjust", survey.adjust.domain.lonely = FALSE)
share01 <- function(x, success, excluded) ifelse(is.na(x) | x %in% excluded, NA, as.numeric(x %in% success))
components <- list(
  "16.7.2" = list(say = share01(d$say_in_government, c("some", "a_lot", "a_great_deal"), c("dont_know", "refused")),
                  influence = share01(d$influence_on_politics, c("some", "a_lot", "a_great_deal"),
                                      c("dont_know", "refused"))),
  "16.6.2.health" = lapply(setNames(nm = c("access", "affordability", "quality", "courtesy", "timeliness")),
    function(a) ifelse(d$used_health_12m == "yes",
                       share01(d[[paste0("health_", a)]], c("strongly_agree", "agree"),
                               c("dont_know", "not_applicable", "refused")), NA)))
raked <- designs$raked
rows <- list()
for (ind in names(components)) {
  parts <- components[[ind]]
  K <- length(parts)
  for (bname in setdiff(names(breakdowns), "psu")) {
    gs <- groups(breakdowns[[bname]])
    for (k in seq_len(nrow(gs$keys))) {
      member <- gs$member[[k]]
      variables <- list()
      for (j in seq_len(K)) {
        base <- !is.na(parts[[j]]) & member
        variables[[paste0("num", j)]] <- ifelse(base, parts[[j]], 0)
        variables[[paste0("den", j)]] <- as.numeric(base)
      }
      if (any(sapply(seq_len(K), function(j) sum(variables[[paste0("den", j)]]) == 0))) next
      raked$variables <- cbind(d, as.data.frame(variables))
      tot <- svytotal(as.formula(paste("~", paste(names(variables), collapse = "+"))), raked)
      expr <- parse(text = paste0("(", paste0("num", seq_len(K), "/den", seq_len(K), collapse = "+"), ")/", K))[[1]]
      r <- svycontrast(tot, expr)
      rows[[length(rows) + 1]] <- data.frame(indicator = ind,
        by = if (bname == "overall") "overall" else tail(breakdowns[[bname]], 1), area = gs$keys$area[k],
        group = gs$keys$group[k], estimate = full(coef(r)), se = full(SE(r)),
        n = sum(Reduce(`|`, lapply(parts, function(p) !is.na(p) & member))))
    }
  }
}
write.csv(do.call(rbind, rows), file.path(here, "composites_shares.csv"), row.names = FALSE, quote = FALSE)
