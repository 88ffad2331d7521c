// doctest runner for all unit tests (test/unit/*_test.cc).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
