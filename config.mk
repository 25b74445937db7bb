# SPDX-License-Identifier: Apache-2.0
# Build settings for edge-anomaly. Override on the command line, e.g.
#   make PREFIX=/usr CFLAGS=-O3
# or put overrides in config.local.mk (not tracked).

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
PLUGINDIR ?= $(LIBDIR)/edge-anomaly
SYSCONFDIR ?= $(PREFIX)/etc
EXAMPLEDIR ?= $(PREFIX)/share/edge-anomaly

CC ?= cc
PKG_CONFIG ?= pkg-config

# Optimisation and debug info; the sanitizer build (make check) adds its own.
CFLAGS ?= -O2 -g
WARNFLAGS := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef -Wcast-align \
	-Wpointer-arith -Wvla -Werror
BASEFLAGS := -D_GNU_SOURCE -fPIC -pthread -fvisibility=hidden -MMD -MP

SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

-include config.local.mk
