#!/usr/bin/env bash
# Import round trip, PostgreSQL 16 with data checksums (see roundtrip.sh).
exec bash "$(dirname "$0")/roundtrip.sh" 16 1
