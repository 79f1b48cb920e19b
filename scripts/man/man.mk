# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The manuals: scripts/man/*.scd through scdoc into $(BUILD)/man. A line
# "@schema OBJECT@" in a page is replaced by that object's keys as the
# field tables of libxlb describe them (tests/docs/schema_dump --scd), so
# xlb.json.5 cannot drift from the reader; "@options OBJECT@" by the CLI
# options the table makes (xlb.8); "@include FILE@" by the file,
# indented (the example config, which the tests load). tests/docs/check.sh checks the
# pages against the programs' own help.

SCDOC ?= scdoc
MAN_SRCS := $(wildcard scripts/man/*.scd)
MAN_PAGES := $(patsubst scripts/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
SCHEMA_DUMP := $(BUILD)/tests/schema_dump

.PHONY: man
all: man
man: $(MAN_PAGES)

$(SCHEMA_DUMP): $(BUILD)/obj/tests/docs/schema_dump.o $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every page depends on the dump tool: it is small, and a page without a
# marker only pays for its link once.
$(BUILD)/man/%: scripts/man/%.scd $(SCHEMA_DUMP) scripts/man/man.mk
	$(call msg,SCDOC,$@)
	@mkdir -p $(@D)
	$(Q)awk -v dump='$(SCHEMA_DUMP)' \
		'/^@(schema|options) [a-z]+@$$/ { o = $$2; sub(/@$$/, "", o); \
			m = $$1 == "@schema" ? " --scd " : " --scd-opts "; \
			fflush(); if (system(dump m o)) exit 1; next } \
		/^@include [^ ]+@$$/ { f = $$2; sub(/@$$/, "", f); \
			n = 0; while ((r = (getline l < f)) > 0) { print "\t" l; n++ } \
			if (r < 0 || !n) { print f ": cannot read" > "/dev/stderr"; exit 1 } \
			close(f); next } { print }' \
		$< > $@.scd
	$(Q)$(SCDOC) < $@.scd > $@
	@rm -f $@.scd

$(BUILD)/man/xlb.json.5: scripts/examples/xlb.json
