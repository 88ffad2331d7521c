#!/usr/bin/env bash
# Import round trip, PostgreSQL 15 (see roundtrip.sh).
exec bash "$(dirname "$0")/roundtrip.sh" 15 0
