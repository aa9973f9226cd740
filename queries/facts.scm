; Facts extraction: every node kind the per-file pass looks at, in one query.
; Captures arrive in document order; src/facts.rs interprets each by its capture name.

; --- definitions -----------------------------------------------------------------------
(function_definition) @def.function
(assignment . (call_expression)) @def.short
(assignment . (where_expression . (call_expression))) @def.short
(assignment . (typed_expression . (call_expression))) @def.short
(arrow_function_expression) @def.lambda
(do_clause) @def.do
(comprehension_expression) @def.comprehension
(parenthesized_expression (for_clause)) @def.comprehension
(argument_list (for_clause)) @def.comprehension
(macrocall_expression) @def.macro
(struct_definition) @def.struct
(module_definition) @def.module

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
