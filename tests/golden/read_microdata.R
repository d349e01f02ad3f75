# Reads a microdata .dta with R's foreign::read.dta (Stata <= 12 files only) and prints what it found, one
# "key<TAB>value" per line, for tests/analysis/test_export.py::test_r_foreign_reads_the_stata_file.
# Usage: Rscript tests/golden/read_microdata.R FILE.dta
args <- commandArgs(trailingOnly = TRUE)
d <- foreign::read.dta(args[1])
labels <- attr(d, "var.labels")
names(labels) <- names(d)
cat("rows\t", nrow(d), "\n", sep = "")
cat("columns\t", ncol(d), "\n", sep = "")
cat("label:weight\t", labels[["weight"]], "\n", sep = "")
cat("levels:sex\t", paste(levels(d$sex), collapse = "|"), "\n", sep = "")
cat("sum:weight\t", format(sum(d$weight), digits = 17), "\n", sep = "")
