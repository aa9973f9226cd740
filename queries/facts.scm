; Facts extraction: every node kind the per-file pass looks at, in one query.
; src/facts/extract/ interprets each capture by its name. Every pattern is one node kind
; (or a list of kinds) with a capture, so the pass walks the tree once with a table of
; kinds read from this file (syntax::CaptureTable), which refuses any other kind of
; pattern; a test checks that the table captures what tree-sitter's query engine captures.

; --- definitions -----------------------------------------------------------------------
; Only single-node patterns: a pattern with child constraints keeps a pending match open
; for every enclosing node, which makes deeply nested input quadratic. Short definitions
; (`f(x) = ...`) are recognised among @assign captures, generators from @generator.
(function_definition) @def.function
(arrow_function_expression) @def.lambda
(do_clause) @def.do
(comprehension_expression) @def.comprehension
(for_clause) @generator
(macrocall_expression) @def.macro
(struct_definition) @def.struct
(abstract_definition) @def.abstract
(module_definition) @def.module

; --- code that is built, not run --------------------------------------------------------
; Quoted code and macro definitions (src/facts/extract/ drops what is inside them, except
; what `$` interpolates and the `init_code` a test runner runs).
[
  (quote_statement)
  (quote_expression)
] @quoted
(macro_definition) @quoted
(interpolation_expression) @interpolated

; --- scopes that break dominance ---------------------------------------------------------
[
  (if_statement)
  (for_statement)
  (while_statement)
  (try_statement)
  (let_statement)
] @block

; --- uses ------------------------------------------------------------------------------
(call_expression) @call
(broadcast_call_expression) @call.broadcast
(assignment) @assign
(compound_assignment_expression) @update
(for_binding) @bind.for
(let_binding) @bind.let
(try_statement) @try
(identifier) @ident

; --- imports ---------------------------------------------------------------------------
(using_statement) @using
(import_statement) @import
(export_statement) @export
