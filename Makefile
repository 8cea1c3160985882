# The two commands: `make run` starts the floor, `make test` runs every test.
# Both set up what they need: a virtualenv with the pinned dependencies, and an embedded
# PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: run test lint venv system-packages clean bench

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python -m deploy.devstack run

# What the tests need from Debian: chromium for the UI tests (Playwright's own browser download
# does not work here), cups for the CUPS printer path, a CJK font for label previews.
SYSTEM_PACKAGES := chromium cups cups-client cups-bsd fonts-wqy-microhei
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: venv system-packages
	$(BIN)/python -m deploy.devstack test $(PYTEST_ARGS)

# Starts its own stack in var/bench (wiped first), measures, checks, writes bench/RESULTS.md.
bench: venv
	$(BIN)/python -m bench

lint: venv
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache
