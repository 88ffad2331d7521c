#!/usr/bin/env bash
# Import round trip, PostgreSQL 17 with data checksums (see roundtrip.sh).
exec bash "$(dirname "$0")/roundtrip.sh" 17 1
