# Installs the `verdict` command line and its HTTP server `verdict-serve` (which `verdict serve` runs):
# self-contained release binaries (the Swift runtime linked in statically), the bundled default
# model, man pages and bash/zsh/fish completions.
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   build and install
#   make uninstall [PREFIX=/usr/local]            remove every file `make install` wrote
#   make deb                                      build verdict_<version>_amd64.deb with dpkg-deb
#   make build                                    only build the release binary (into $(SCRATCH))
#
# See docs/Install.md.

PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
# A scratch folder of its own, so that the static build does not invalidate `swift build`'s.
SCRATCH ?= .build/install
VERSION := $(shell sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/Verdict/Version.swift)
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)

BIN := $(SCRATCH)/release/verdict
SERVE_BIN := $(SCRATCH)/release/verdict-serve
MODEL := Sources/VerdictDefaultModel/default-sentiment
GENERATED := $(SCRATCH)/generated
MANUAL_TOOL := $(SCRATCH)/argument-parser/debug/generate-manual

# What `make install` writes, relative to $(DESTDIR)$(PREFIX): `make uninstall` removes exactly these.
INSTALLED_FILES := bin/verdict bin/verdict-serve share/man/man1/verdict.1 share/man/man1/verdict-serve.1 \
	share/bash-completion/completions/verdict \
	share/zsh/site-functions/_verdict share/fish/vendor_completions.d/verdict.fish \
	$(addprefix share/verdict/default-sentiment/,$(notdir $(wildcard $(MODEL)/*)))
INSTALLED_DIRS := share/verdict/default-sentiment share/verdict

.PHONY: all build install install-files uninstall deb clean-install

all: build

build:
	@if [ "$$(uname)" = Linux ] && ! ldconfig -p | grep 'libcurl\.so ' >/dev/null; then \
		echo "make: the static build links Foundation's networking, which needs libcurl's development files:" \
			"apt-get install libcurl4-openssl-dev" >&2; exit 1; fi
	for product in verdict verdict-serve; do \
		$(SWIFT) build -c release --product $$product --static-swift-stdlib --scratch-path $(SCRATCH) \
			-Xcc -DVERDICT_COMMIT=$(COMMIT) || exit 1; done

# The man page comes from swift-argument-parser's generate-manual tool (the one its GenerateManual
# plugin runs), built from the checkout SwiftPM already resolved; completions from the binary itself.
$(GENERATED)/stamp: build
	$(SWIFT) build --package-path $(SCRATCH)/checkouts/swift-argument-parser --scratch-path $(SCRATCH)/argument-parser \
		--product generate-manual -Xswiftc -suppress-warnings
	rm -rf $(GENERATED) && mkdir -p $(GENERATED)
	$(MANUAL_TOOL) $(BIN) --output-directory $(GENERATED) --section 1 --authors "The Verdict developers"
	$(MANUAL_TOOL) $(SERVE_BIN) --output-directory $(GENERATED) --section 1 --authors "The Verdict developers"
	$(BIN) --generate-completion-script bash > $(GENERATED)/verdict.bash
	$(BIN) --generate-completion-script zsh > $(GENERATED)/_verdict
	$(BIN) --generate-completion-script fish > $(GENERATED)/verdict.fish
	touch $@

install: $(GENERATED)/stamp
	$(MAKE) --no-print-directory install-files

# Copies what `build` and the stamp produced; `deb` stages the same files without building again.
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/verdict/default-sentiment
	install -m 755 -s $(BIN) $(DESTDIR)$(PREFIX)/bin/verdict
	install -m 755 -s $(SERVE_BIN) $(DESTDIR)$(PREFIX)/bin/verdict-serve
	install -m 644 $(GENERATED)/verdict.1 $(DESTDIR)$(PREFIX)/share/man/man1/verdict.1
	install -m 644 $(GENERATED)/verdict-serve.1 $(DESTDIR)$(PREFIX)/share/man/man1/verdict-serve.1
	install -m 644 $(GENERATED)/verdict.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/verdict
	install -m 644 $(GENERATED)/_verdict $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_verdict
	install -m 644 $(GENERATED)/verdict.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/verdict.fish
	install -m 644 $(MODEL)/* $(DESTDIR)$(PREFIX)/share/verdict/default-sentiment/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED_FILES))
	-rmdir $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED_DIRS)) 2>/dev/null
	-cd $(DESTDIR)$(PREFIX) 2>/dev/null && rmdir -p share/man/man1 share/bash-completion/completions share/zsh/site-functions \
		share/fish/vendor_completions.d bin 2>/dev/null; true

# A Debian package of the same files under /usr. The binary links only Debian 12 system libraries;
# Depends lists the packages that hold the ones it names (tools/deb_control.sh).
DEB_ROOT := $(SCRATCH)/deb/verdict_$(VERSION)_$(ARCH)
DEB := verdict_$(VERSION)_$(ARCH).deb

deb: $(GENERATED)/stamp
	rm -rf $(DEB_ROOT) && mkdir -p $(DEB_ROOT)/DEBIAN
	$(MAKE) --no-print-directory install-files PREFIX=/usr DESTDIR=$(CURDIR)/$(DEB_ROOT)
	tools/deb_control.sh $(DEB_ROOT) $(VERSION) $(ARCH) > $(DEB_ROOT)/DEBIAN/control
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $(DEB)
	@echo "built $(DEB)"

clean-install:
	rm -rf $(SCRATCH) verdict_*.deb
