// What the workflow tests share: a county's departments and the shipped calendar.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "calendar/calendar.h"
#include "config/config.h"

namespace closeloop::test {

inline Config office_config() {
  Config c;
  c.departments = {{"zjj", "县住房和城乡建设局"},
                   {"jtj", "县交通运输局"},
                   {"jyj", "县教育局"},
                   {"gaj", "县公安局"},
                   {"zgjd", "城关街道办事处"}};
  return c;
}

inline Calendar load_calendar(const std::string& dir) {
  auto calendar = Calendar::load(dir);
  INFO(dir << ": " << (calendar ? "" : calendar.error().message));
  REQUIRE(calendar);
  return *calendar;
}

// config/calendar as shipped (2023-2026).
inline const Calendar& shipped() {
  static const Calendar calendar = load_calendar(CLOSELOOP_SOURCE_DIR "/config/calendar");
  return calendar;
}

}  // namespace closeloop::test
