# Golden weights and estimates for a probability sample with non-response (analysis/nonresponse.py), R survey.
#
# Input (python tests/golden/make_nonresponse_input.py): nonresponse_input.csv — every visit of a simulated round
# (interviews and visit records without one), with the recorded prob_block, block_take, block_dwellings,
# eligible_adults — and the population margins nonresponse_margins_{sex,age}.csv.
# Steps, written independently of the Python code from the rules in analysis/nonresponse.py:
#   final visit per dwelling (highest visit_number); selected dwellings never visited added as unknown
#   eligibility; base weight w0 = dwellings / (prob_block * take); weighting classes = blocks, a thin one (< 3
#   respondents or factor > 3) merged with its neighbour in code order (the one with fewer respondents) within
#   the neighbourhood; unknown eligibility spread with postStratify() of the known cases to the class totals of
#   all cases, non-response with postStratify() of the eligible respondents to the eligible class totals; person
#   weight x eligible_adults; then svydesign(ids=~psu, strata=~neighbourhood, weights=, nest=TRUE), rake() to
#   neighbourhood x sex and neighbourhood x age group, svymean / svyby of victim == "yes".
# Output: nonresponse_weights.csv (instance_id, base = 1/P from svydesign(probs=), nonresponse, raked) and
#         nonresponse_estimates.csv (by, group, estimate, se); nonresponse_estimates_fpc.csv, the same with
#         fpc = ~N_h (blocks per neighbourhood in nonresponse_frame.csv).
# Run from the repository root:  Rscript tests/golden/nonresponse.R

suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
here <- if (length(args)) args[1] else "tests/golden"  # the benchmark passes another folder
v <- read.csv(file.path(here, "nonresponse_input.csv"), stringsAsFactors = FALSE)
m_sex <- read.csv(file.path(here, "nonresponse_margins_sex.csv"), stringsAsFactors = FALSE)
m_age <- read.csv(file.path(here, "nonresponse_margins_age.csv"), stringsAsFactors = FALSE)
names(m_sex)[names(m_sex) == "population"] <- "Freq"
names(m_age)[names(m_age) == "population"] <- "Freq"
full <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
group_of <- c(complete = "I", partial = "P", refused = "R", refused_door = "R", noncontact = "NC",
              respondent_away = "NC", other_nonresponse = "O", unknown_eligibility = "U", not_eligible = "NE",
              vacant = "NE", not_dwelling = "NE")

# final disposition: the last visit of each dwelling
v <- v[order(v$psu, v$dwelling_number, v$visit_number), ]
final <- v[!duplicated(v[, c("psu", "dwelling_number")], fromLast = TRUE), ]
final$group <- group_of[final$disposition]
final$w0 <- final$block_dwellings / (final$prob_block * final$block_take)
# never-visited selected dwellings: unknown eligibility
per_block <- aggregate(dwelling_number ~ psu, final, length)
blocks <- final[!duplicated(final$psu), ]
blocks$missing <- blocks$block_take - per_block$dwelling_number[match(blocks$psu, per_block$psu)]
extra <- blocks[rep(seq_len(nrow(blocks)), pmax(blocks$missing, 0)), ]
if (nrow(extra)) {
  extra$group <- "U"; extra$instance_id <- NA; extra$disposition <- "not_visited"
}
dw <- rbind(final, extra[, names(final)])

stats <- function(rows) {
  w <- dw$w0[rows]; g <- dw$group[rows]
  known <- sum(w[g != "U"]); elig <- sum(w[g %in% c("I", "P", "R", "NC", "O")]); resp <- sum(w[g %in% c("I", "P")])
  list(respondents = sum(g %in% c("I", "P")), factor = (sum(w) / known) * (elig / resp))
}
thin <- function(s) s$respondents < 3 || s$factor > 3
dw$class <- paste0("psu = ", dw$psu)
for (area in sort(unique(dw$neighbourhood))) {
  repeat {
    names_ <- sort(unique(dw$class[dw$neighbourhood == area]))
    if (length(names_) < 2) break
    s <- lapply(names_, function(n) stats(dw$class == n))
    is_thin <- vapply(s, thin, logical(1))
    if (!any(is_thin)) break
    i <- which(is_thin)[1]
    j <- if (i == 1) 2 else if (i == length(names_)) i - 1 else
      c(i - 1, i + 1)[which.min(c(s[[i - 1]]$respondents, s[[i + 1]]$respondents))]
    a <- min(i, j); b <- max(i, j)
    dw$class[dw$class %in% names_[c(a, b)]] <- paste(names_[a], "+", names_[b])
  }
}

# unknown eligibility: the known cases post-stratified to the class totals of all selected dwellings
known <- dw[dw$group != "U", ]
all_totals <- aggregate(list(Freq = dw$w0), list(class = dw$class), sum)
d_known <- postStratify(svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~w0, nest = TRUE, data = known),
                        ~class, all_totals)
known$w_u <- weights(d_known)
# non-response: the eligible respondents post-stratified to the eligible totals
eligible <- known[known$group %in% c("I", "P", "R", "NC", "O"), ]
elig_totals <- aggregate(list(Freq = eligible$w_u), list(class = eligible$class), sum)
resp <- eligible[eligible$group %in% c("I", "P"), ]
d_resp <- postStratify(svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~w_u, nest = TRUE, data = resp),
                       ~class, elig_totals)
resp$w_nr <- weights(d_resp) * resp$eligible_adults

resp$p_person <- resp$prob_block * resp$block_take / resp$block_dwellings / resp$eligible_adults
base <- svydesign(ids = ~psu, strata = ~neighbourhood, probs = ~p_person, nest = TRUE, data = resp)
resp$age_group <- as.character(cut(resp$age, c(-Inf, 24, 34, 44, 54, 64, Inf),
                                   labels = c("18-24", "25-34", "35-44", "45-54", "55-64", "65+")))
resp$victim_yes <- as.numeric(resp$victim == "yes")
des <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~w_nr, nest = TRUE, data = resp)
raked <- rake(des, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age),
              control = list(maxit = 100, epsilon = 1e-12))
write.csv(data.frame(instance_id = resp$instance_id, base = full(weights(base)), nonresponse = full(resp$w_nr),
                     raked = full(weights(raked))),
          file.path(here, "nonresponse_weights.csv"), row.names = FALSE, quote = FALSE)

rows <- list()
overall <- svymean(~victim_yes, raked)
rows[[1]] <- data.frame(by = "overall", group = "all", estimate = as.numeric(coef(overall)), se = as.numeric(SE(overall)))
for (by in c("neighbourhood", "sex")) {
  b <- svyby(~victim_yes, as.formula(paste0("~", by)), raked, svymean)
  rows[[length(rows) + 1]] <- data.frame(by = by, group = b[[by]], estimate = as.numeric(coef(b)), se = as.numeric(SE(b)))
}
out <- do.call(rbind, rows)
out$estimate <- full(out$estimate); out$se <- full(out$se)
write.csv(out, file.path(here, "nonresponse_estimates.csv"), row.names = FALSE, quote = FALSE)

# the same with the first-stage finite population correction: blocks per neighbourhood in the frame
frame <- read.csv(file.path(here, "nonresponse_frame.csv"), stringsAsFactors = FALSE)
resp$N_h <- as.numeric(table(frame$neighbourhood)[resp$neighbourhood])
des_fpc <- svydesign(ids = ~psu, strata = ~neighbourhood, weights = ~w_nr, fpc = ~N_h, nest = TRUE, data = resp)
raked_fpc <- rake(des_fpc, list(~neighbourhood + sex, ~neighbourhood + age_group), list(m_sex, m_age),
                  control = list(maxit = 100, epsilon = 1e-12))
overall <- svymean(~victim_yes, raked_fpc)
rows <- list(data.frame(by = "overall", group = "all", estimate = as.numeric(coef(overall)),
                        se = as.numeric(SE(overall))))
b <- svyby(~victim_yes, ~neighbourhood, raked_fpc, svymean)
rows[[2]] <- data.frame(by = "neighbourhood", group = b$neighbourhood, estimate = as.numeric(coef(b)),
                        se = as.numeric(SE(b)))
out <- do.call(rbind, rows)
out$estimate <- full(out$estimate); out$se <- full(out$se)
write.csv(out, file.path(here, "nonresponse_estimates_fpc.csv"), row.names = FALSE, quote = FALSE)
