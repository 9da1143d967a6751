// Package mappings owns the mapping file: one YAML document holding the source, the
// target and the entity mappings. It parses strictly (unknown keys are errors with
// their line), expands ${ENV} references, validates, and hashes the effective mapping
// so a resume under a changed configuration can be refused.
// It embeds the presets of presets/ (starting mappings for real platforms'
// databases), which `immigrate init` writes.
package mappings
