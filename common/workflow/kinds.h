// The kinds of item the office assigns, each with its own reply rule (the numbers are
// config [rules]; workflow/deadline.h computes the dates). Chinese names are what an
// office writes in an imported list.
#pragma once

#include <array>
#include <string_view>

namespace closeloop {

struct Kind {
  std::string_view code, name_zh, reply_rule;
};

inline constexpr std::array<Kind, 5> kKinds{{
    {"suggestion", "代表建议", "3 months after assignment (6 with --complex)"},
    {"station", "群众诉求", "15 working days after assignment"},
    {"audit", "审计整改", "set per finding at assignment (--due)"},
    {"project", "民生实事", "the last milestone (--milestone DATE=TEXT at assignment)"},
    {"legislative", "立法意见", "the end of the consultation window (--due at assignment)"},
}};

// By code or by Chinese name; nullptr if neither.
inline const Kind* find_kind(std::string_view code_or_name) {
  for (const Kind& k : kKinds)
    if (k.code == code_or_name || k.name_zh == code_or_name) return &k;
  return nullptr;
}

}  // namespace closeloop
