# pg_autolauncher/Makefile

MODULE_big = pg_autolauncher
OBJS = \
	$(WIN32RES) \
	pg_autolauncher.o \
	src/launcher.o \
	src/policy.o \
	src/slots.o \
	src/databases.o \
	src/registry.o \
	src/blocks.o \
	src/statefile.o \
	src/status.o \
	src/tables.o \
	src/ddl.o \
	src/runstats.o \
	src/runlog.o \
	src/worker.o

# "make AL_TESTING=1" adds the fault injection the TAP tests need
# (src/testing.c).  Never use it for a production build.
ifdef AL_TESTING
OBJS += src/testing.o
endif

EXTENSION = pg_autolauncher
DATA = pg_autolauncher--1.0.sql pg_autolauncher--1.0--1.1.sql pg_autolauncher--1.1--1.2.sql
PGFILEDESC = "pg_autolauncher - autovacuum-style launcher with per-database workers"

PG_CPPFLAGS = -I$(srcdir)/src

# pg_regress starts its own instance with the library preloaded, so plain
# "make installcheck" needs no configured server (it must not run as root).
# The test database is UTF8 whatever the environment's locale (a fresh
# machine may have none): the expected output cuts multi-byte names.
REGRESS = guc views tables request security upgrade
REGRESS_OPTS = --temp-config=$(srcdir)/test/regress.conf \
	--temp-instance=./tmp_check_regress --encoding=UTF8
TAP_TESTS = 1

EXTRA_CLEAN = tmp_check_regress src/testing.o src/testing.bc .build-mode

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies: rebuild everything when a
# shared header changes, so no object keeps an old struct layout.
$(filter %.o,$(OBJS)): src/pg_autolauncher.h src/policy.h

# A normal and a test build (AL_TESTING=1) differ, so switching between
# them in one tree must recompile and relink.  Make alone would not:
# PGXS marks every target .SECONDARY, so a missing src/testing.o does not
# make an up-to-date library stale, and a test build would install a
# library without the test hook.  .build-mode records the mode of the last
# build; it is rewritten only when the mode changes, and every object,
# bitcode file and the library depend on it.
AL_BUILD_MODE = $(if $(AL_TESTING),testing,normal)

.build-mode: FORCE
	@old=$$(cat $@ 2>/dev/null || :); \
	if [ "$$old" != "$(AL_BUILD_MODE)" ]; then \
		if [ -n "$$old" ]; then \
			echo "build mode changed from $$old to $(AL_BUILD_MODE): rebuilding"; \
		fi; \
		echo "$(AL_BUILD_MODE)" >$@; \
	fi

$(shlib) $(filter %.o,$(OBJS)) $(patsubst %.o,%.bc,$(filter %.o,$(OBJS))): .build-mode

FORCE:

# "make dist": a release tarball of the committed tree, named after the
# control file's default_version.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(srcdir)/pg_autolauncher.control)
DISTNAME = pg_autolauncher-$(EXTVERSION)

dist:
	git -C $(srcdir) archive --format=tar.gz --prefix=$(DISTNAME)/ \
		-o $(abspath $(DISTNAME).tar.gz) HEAD

.PHONY: dist FORCE
