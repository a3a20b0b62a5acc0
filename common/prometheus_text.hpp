// The Prometheus text exposition format (version 0.0.4), as node_exporter's textfile
// collector reads it: a HELP and a TYPE line per family, then one line per sample. No
// client-side timestamps (the collector rejects a whole file that carries one).
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exhibit::prom {

enum class MetricType { gauge, counter };

struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;  // name, value (any UTF-8)
    double value = 0;
};

struct Family {
    std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*, with its unit and _total as Prometheus asks
    std::string help;
    MetricType type = MetricType::gauge;
    std::vector<Sample> samples;

    Family& add(double value) {
        samples.push_back({{}, value});
        return *this;
    }
    Family& add(std::vector<std::pair<std::string, std::string>> labels, double value) {
        samples.push_back({std::move(labels), value});
        return *this;
    }
};

bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

// The families in the text format, in the order given. A family or label with an invalid name
// is a programming error and throws std::invalid_argument.
std::string render(const std::vector<Family>& families);

}  // namespace exhibit::prom
