// Reading and writing ModelConfig as a TOML table.
//
// Keys: kind (required), preset (tiny|small|base|large; default tiny: the
// preset of that kind supplies every key not given), vocab_size, d_model,
// num_heads, d_ff, encoder_layers, decoder_layers, max_positions, positions
// (learned|rotary), rotary_base, norm (layer|rms), norm_eps, dropout,
// tie_embeddings, cross_attention, init_std, heads (array of lm, mlm, rtd,
// classifier; replaces the preset's heads), num_classes, pooling
// (first_token|mean). Unknown keys, wrong types and invalid values are
// InputErrors of the form "<source>:<line>: <prefix>.<key>: <problem>".
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "model/config.h"

namespace graft {

// table: the model's table (e.g. a recipe's [model]); source: the file name for
// messages; key_prefix: how keys are spelled in messages ("model" gives
// "model.num_heads"; empty gives "num_heads").
ModelConfig model_config_from_toml(const toml::table& table, const std::string& source,
                                   const std::string& key_prefix = "model");

// Parses TOML text whose root table is the model table; a syntax error is an
// InputError naming source and line.
ModelConfig model_config_from_toml_text(std::string_view text, const std::string& source,
                                        const std::string& key_prefix = "model");

// Every key, explicitly (no preset), so a resolved config reads back equal.
toml::table model_config_to_toml(const ModelConfig& config);

}  // namespace graft
