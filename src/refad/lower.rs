//! Lowering of the tree-sitter-julia tree into the IR of `ir.rs`.
//!
//! Anything the interpreter does not model becomes `Ex::Unsupported`, which raises only if it
//! is evaluated, so unsupported code in a branch that is never taken is harmless.

use super::ir::*;
use crate::syntax;
use std::collections::HashMap;
use std::rc::Rc;
use tree_sitter::Node;

/// Deepest syntactic nesting the lowering accepts.
pub const MAX_NESTING: u32 = 200;

/// Module-like qualifiers that are dropped (`Zygote.gradient` -> `gradient`).
const MODULES: &[&str] = &[
    "Zygote",
    "Flux",
    "Base",
    "ChainRulesCore",
    "CRC",
    "ChainRules",
    "LinearAlgebra",
    "Statistics",
    "NNlib",
    "Random",
    "Optimisers",
    "ZygoteRules",
    "Core",
    "Main",
    "Math",
    "Broadcast",
    "Functors",
    "Losses",
    "Optimise",
    "Train",
    "Iterators",
];

pub fn is_module(name: &str) -> bool {
    MODULES.contains(&name)
}

pub struct Lowerer<'a> {
    src: &'a str,
    file: u32,
    depth: u32,
    try_seen: Vec<Option<Span>>,
    where_vars: Vec<HashMap<String, Ty>>,
    pending_destructure: Vec<(usize, Lv)>,
}

pub fn lower_file(src: &str, file: u32) -> Ex {
    let parsed = syntax::parse(src);
    let mut l = Lowerer {
        src,
        file,
        depth: 0,
        try_seen: vec![None],
        where_vars: vec![],
        pending_destructure: vec![],
    };
    let root = parsed.tree.root_node();
    l.block_of(root, &[])
}

fn text(s: &str) -> Rc<super::value::Text> {
    Rc::new(super::value::Text::new(s))
}

fn name(s: &str) -> Name {
    Rc::from(s)
}

fn call(fname: &str, args: Vec<Ex>, span: Span) -> Ex {
    Ex::Call {
        f: Box::new(Ex::Var(name(fname), span)),
        args: args
            .into_iter()
            .map(|ex| Arg { ex, splat: false })
            .collect(),
        kw: vec![],
        span,
    }
}

/// Rewrite for `@.`: every call becomes a broadcast, `=` becomes `.=`.
pub fn dotify(e: Ex) -> Ex {
    match e {
        Ex::Call { f, args, kw, span } if kw.is_empty() => Ex::Bcast {
            f,
            args: args
                .into_iter()
                .map(|a| Arg {
                    ex: dotify(a.ex),
                    splat: a.splat,
                })
                .collect(),
            span,
        },
        Ex::Assign(lv, rhs, span) => Ex::DotAssign(lv, Box::new(dotify(*rhs)), span),
        Ex::Block(v) => Ex::Block(v.into_iter().map(dotify).collect()),
        other => other,
    }
}

impl<'a> Lowerer<'a> {
    fn span(&self, n: Node) -> Span {
        Span {
            file: self.file,
            start: n.start_byte() as u32,
            end: n.end_byte() as u32,
            line: n.start_position().row as u32 + 1,
        }
    }
    fn text(&self, n: Node) -> &'a str {
        syntax::text(n, self.src)
    }
    fn unsupported(&self, what: &str, n: Node) -> Ex {
        Ex::Unsupported(what.to_string(), self.span(n))
    }

    /// The name and the value of `k = v` (a keyword argument or a parameter's default):
    /// the children on either side of its `=`. The value may be an operator itself
    /// (`sort(v; lt = >)`), which dropping every operator child lost.
    fn key_and_value(&self, n: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
        let ch: Vec<Node> = syntax::named_children(n)
            .into_iter()
            .filter(|c| !Self::is_skip(c))
            .collect();
        let eq = ch
            .iter()
            .position(|c| c.kind() == "operator" && self.text(*c) == "=")?;
        Some((*ch.get(eq.checked_sub(1)?)?, *ch.get(eq + 1)?))
    }

    fn is_skip(n: &Node) -> bool {
        matches!(n.kind(), "line_comment" | "block_comment") || !n.is_named()
    }

    /// Lower the named children of `n` (skipping `skip_kinds`) as a block.
    fn block_of(&mut self, n: Node, skip_kinds: &[&str]) -> Ex {
        let mut out = vec![];
        for c in syntax::named_children(n) {
            if Self::is_skip(&c) || skip_kinds.contains(&c.kind()) {
                continue;
            }
            out.push(self.expr(c));
        }
        Ex::Block(out)
    }

    fn block_nodes(&mut self, nodes: &[Node]) -> Ex {
        let mut out = vec![];
        for c in nodes {
            if Self::is_skip(c) {
                continue;
            }
            out.push(self.expr(*c));
        }
        Ex::Block(out)
    }

    pub fn expr(&mut self, n: Node) -> Ex {
        if self.depth >= MAX_NESTING {
            return self.unsupported("nesting deeper than 200", n);
        }
        self.depth += 1;
        let r = self.expr_inner(n);
        self.depth -= 1;
        r
    }

    /// Lowers one tree-sitter node: one match over the node kinds the interpreter models, each
    /// arm a few lines or a call of the method for that kind.
    fn expr_inner(&mut self, n: Node) -> Ex {
        let sp = self.span(n);
        let kids = syntax::named_children(n);
        let named: Vec<Node> = kids.iter().copied().filter(|c| !Self::is_skip(c)).collect();
        match n.kind() {
            "source_file" | "compound_statement" | "block" | "module_definition" => {
                if n.kind() == "module_definition" {
                    // transparent: lower the body (skip the module name)
                    let body: Vec<Node> = named.iter().copied().skip(1).collect();
                    return self.block_nodes(&body);
                }
                self.block_nodes(&named)
            }
            "identifier" => {
                let t = self.text(n);
                if t == "end" {
                    Ex::End
                } else {
                    Ex::Var(name(t), sp)
                }
            }
            "operator" => {
                let t = self.text(n);
                if t == ":" {
                    Ex::Colon
                } else {
                    Ex::Var(name(t), sp)
                }
            }
            "integer_literal" => self.int_lit(n),
            "float_literal" => {
                let t = self.text(n).replace('_', "").replace('f', "e");
                match t.parse::<f64>() {
                    Ok(v) => Ex::Lit(Lit::Float(v)),
                    Err(_) => self.unsupported("float literal", n),
                }
            }
            "boolean_literal" => Ex::Lit(Lit::Bool(self.text(n) == "true")),
            "character_literal" => self.char_lit(n),
            "string_literal" => self.string_lit(n),
            "quote_expression" => {
                if named.len() == 1 && matches!(named[0].kind(), "identifier" | "operator") {
                    Ex::Lit(Lit::Sym(name(self.text(named[0]))))
                } else {
                    self.unsupported("quoted expression", n)
                }
            }
            "parenthesized_expression" => {
                if named.iter().any(|c| c.kind() == "for_clause") {
                    return self.generator(n, &named);
                }
                if named.len() == 1 {
                    self.expr(named[0])
                } else {
                    self.block_nodes(&named)
                }
            }
            "call_expression" => self.call_expr(n, &named),
            "broadcast_call_expression" => self.bcast_call(n, &named, sp),
            "binary_expression" => self.binary(n, &named),
            "unary_expression" => self.unary(n, &named, sp),
            "juxtaposition_expression" => {
                if named.len() == 2 {
                    let a = self.expr(named[0]);
                    let b = self.expr(named[1]);
                    call("*", vec![a, b], sp)
                } else {
                    self.unsupported("juxtaposition", n)
                }
            }
            "adjoint_expression" => {
                let x = self.expr(named[0]);
                call("adjoint", vec![x], sp)
            }
            "index_expression" => self.index_expr(&named, sp),
            "field_expression" => self.field_expr(n, &named, sp),
            "tuple_expression" | "open_tuple" => self.tuple(n, &named),
            "vector_expression" => {
                // `[x' -y]` is a one-row matrix in Julia; the grammar reads one element.
                // Each child is lowered once: lowering it again here doubled the work at
                // every level of `[[[...]]]`.
                let comma = syntax::children(n).iter().any(|c| c.kind() == ",");
                if let ([only], false) = (named.as_slice(), comma) {
                    if only.kind() == "binary_expression" {
                        let mut elements = self.row_elements(*only);
                        if elements.len() > 1 {
                            return Ex::Matrix(vec![elements]);
                        }
                        let ex = elements.pop().expect("a row item has an element");
                        return Ex::Vect(vec![Arg { ex, splat: false }]);
                    }
                }
                let mut args = vec![];
                for c in &named {
                    args.push(self.arg(*c));
                }
                Ex::Vect(args)
            }
            "matrix_expression" => self.matrix(n, &named),
            "comprehension_expression" | "generator" | "generator_expression" => {
                self.generator(n, &named)
            }
            "range_expression" => self.range_expr(n, &named),
            "ternary_expression" => {
                if named.len() != 3 {
                    return self.unsupported("ternary", n);
                }
                let c = self.expr(named[0]);
                let a = self.expr(named[1]);
                let b = self.expr(named[2]);
                Ex::If(Box::new(c), Box::new(a), Some(Box::new(b)))
            }
            "if_statement" | "elseif_clause" => self.if_stmt(n),
            "for_statement" => self.for_stmt(&named),
            "while_statement" => self.while_stmt(n, &named),
            "break_statement" => Ex::Break,
            "continue_statement" => Ex::Continue,
            "return_statement" => match named.first() {
                Some(v) => Ex::Return(Box::new(self.expr(*v))),
                None => Ex::Return(Box::new(Ex::Lit(Lit::Nothing))),
            },
            "let_statement" => self.let_stmt(n, &named),
            "try_statement" => self.try_stmt(n, &named),
            "function_definition" => self.function_def(n, &named),
            "assignment" => self.assignment(n, &named),
            "compound_assignment_expression" => self.update(n, &named, sp),
            "arrow_function_expression" => self.arrow(n, &named, sp),
            "macrocall_expression" => self.macrocall(n, &named),
            "struct_definition" => self.struct_def(n, &named),
            "abstract_definition" | "primitive_definition" => Ex::Lit(Lit::Nothing),
            // `using Lux` makes Lux's layer names the bare ones (the prelude's Flux layers
            // are bare otherwise).
            "using_statement"
                if syntax::named_children(n)
                    .iter()
                    .any(|c| self.text(*c).trim() == "Lux") =>
            {
                call("__using_lux", vec![], sp)
            }
            "using_statement" | "import_statement" | "export_statement" | "public_statement" => {
                Ex::Lit(Lit::Nothing)
            }
            "const_statement" | "global_statement" | "local_statement" => {
                self.declaration(n, &named)
            }
            "typed_expression" => {
                // `x::T` in value position: type assertion, value unchanged
                match named.first() {
                    Some(x) => self.expr(*x),
                    None => self.unsupported("typed expression", n),
                }
            }
            "parametrized_type_expression" | "curly_expression" => {
                let t: String = self
                    .text(n)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                Ex::Var(name(&t), sp)
            }
            "splat_expression" => self.unsupported("splat outside a call", n),
            _ => self.unsupported(n.kind(), n),
        }
    }

    /// An integer literal: decimal, `0x` or `0b`, `_` separators.
    fn int_lit(&mut self, n: Node) -> Ex {
        let t = self.text(n).replace('_', "");
        let v = if let Some(h) = t.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if let Some(b) = t.strip_prefix("0b") {
            i64::from_str_radix(b, 2).ok()
        } else {
            t.parse::<i64>().ok()
        };
        match v {
            Some(v) => Ex::Lit(Lit::Int(v)),
            None => self.unsupported("integer literal out of Int64 range", n),
        }
    }

    /// A character literal, with the common escapes.
    fn char_lit(&mut self, n: Node) -> Ex {
        let t = self.text(n);
        let inner = &t[1..t.len().saturating_sub(1)];
        let c = match inner {
            "\\n" => Some('\n'),
            "\\t" => Some('\t'),
            "\\\\" => Some('\\'),
            "\\'" => Some('\''),
            _ if inner.chars().count() == 1 => inner.chars().next(),
            _ => None,
        };
        match c {
            Some(c) => Ex::Lit(Lit::Char(c)),
            None => self.unsupported("character literal", n),
        }
    }

    /// `f.(args...)`.
    fn bcast_call(&mut self, n: Node, named: &[Node], sp: Span) -> Ex {
        let f = self.callee(named[0]);
        let (args, kw) = match named.iter().find(|c| c.kind() == "argument_list") {
            Some(al) => self.arg_list(*al),
            None => (vec![], vec![]),
        };
        if !kw.is_empty() {
            return self.unsupported("keyword arguments in broadcast", n);
        }
        Ex::Bcast {
            f: Box::new(f),
            args,
            span: sp,
        }
    }

    /// `-x`, `!x`, `√x`, and broadcast `.-x`.
    fn unary(&mut self, n: Node, named: &[Node], sp: Span) -> Ex {
        let op_node = syntax::children(n)
            .into_iter()
            .find(|c| c.kind() == "operator" || !c.is_named());
        let op = op_node.map(|o| self.text(o)).unwrap_or("");
        let operand = match named.iter().rev().find(|c| c.kind() != "operator") {
            Some(o) => *o,
            None => return self.unsupported("unary expression", n),
        };
        let x = self.expr(operand);
        if op.len() > 1 && op.starts_with('.') {
            return Ex::Bcast {
                f: Box::new(Ex::Var(name(&op[1..]), sp)),
                args: vec![Arg {
                    ex: x,
                    splat: false,
                }],
                span: sp,
            };
        }
        match op {
            "-" | "+" | "!" | "√" | "~" => call(op, vec![x], sp),
            "<:" | "::" => self.unsupported("type operator", n),
            _ => self.unsupported(&format!("unary operator {op}"), n),
        }
    }

    /// `x[i, j]`.
    fn index_expr(&mut self, named: &[Node], sp: Span) -> Ex {
        let obj = self.expr(named[0]);
        // `T[1 2; 3 4]` and `T[1 -2]`: a typed array literal (space or `;` separation is
        // never indexing). The elements are converted to `T`.
        // Each part is lowered once (lowering the bracket twice doubled the work at every
        // level of `a[b[c[...]]]`).
        if let Some(&bracket) = named.get(1) {
            if bracket.kind() == "matrix_expression" {
                let literal = self.expr(bracket);
                return call("__typed_array", vec![obj, literal], sp);
            }
            let items: Vec<Node> = (syntax::named_children(bracket).into_iter())
                .filter(|c| !Self::is_skip(c))
                .collect();
            let comma = syntax::children(bracket).iter().any(|c| c.kind() == ",");
            if let ([only], false) = (items.as_slice(), comma) {
                if only.kind() == "binary_expression" {
                    let mut elements = self.row_elements(*only);
                    if elements.len() > 1 {
                        return call("__typed_array", vec![obj, Ex::Matrix(vec![elements])], sp);
                    }
                    return Ex::Index {
                        obj: Box::new(obj),
                        idx: elements.pop().into_iter().collect(),
                        span: sp,
                    };
                }
            }
        }
        let mut idx = vec![];
        if let Some(v) = named.get(1) {
            for c in syntax::named_children(*v) {
                if Self::is_skip(&c) {
                    continue;
                }
                idx.push(self.expr(c));
            }
        }
        Ex::Index {
            obj: Box::new(obj),
            idx,
            span: sp,
        }
    }

    /// `x.f`; `Module.f` is `f`.
    fn field_expr(&mut self, n: Node, named: &[Node], sp: Span) -> Ex {
        let value = n.child_by_field_name("value").unwrap_or(named[0]);
        let field = named.last().copied().unwrap_or(n);
        let fname = self.text(field);
        if value.kind() == "identifier" && is_module(self.text(value)) {
            return Ex::Var(name(fname), sp);
        }
        if value.kind() == "field_expression" {
            // Module.Sub.f
            let vt = self.text(value);
            if vt.split('.').all(is_module) {
                return Ex::Var(name(fname), sp);
            }
        }
        let obj = self.expr(value);
        Ex::Field {
            obj: Box::new(obj),
            name: name(fname),
            span: sp,
        }
    }

    /// `[a b; c d]`, and `[a;; b]` (Julia 1.7's `;;` concatenates along the second
    /// dimension: `[1; 2;; 3; 4]` is a 2×2 matrix, column by column).
    fn matrix(&mut self, n: Node, named: &[Node]) -> Ex {
        // How many `;` separate each row from the next (a newline counts as one).
        let gaps: Vec<usize> = named
            .windows(2)
            .map(|w| {
                let between = &self.src[w[0].end_byte()..w[1].start_byte()];
                between.matches(';').count().max(1)
            })
            .collect();
        match gaps.iter().max() {
            Some(&2) => {
                // Columns (split at `;;`), each the vertical concatenation of its rows.
                let mut columns: Vec<Vec<&Node>> = vec![vec![]];
                for (i, r) in named.iter().enumerate() {
                    columns.last_mut().expect("one column").push(r);
                    if gaps.get(i) == Some(&2) {
                        columns.push(vec![]);
                    }
                }
                let mut parts = vec![];
                for col in columns {
                    let rows: Vec<Node> = col.into_iter().copied().collect();
                    parts.push(Ex::Matrix(self.matrix_rows(&rows)));
                }
                let sp = self.span(n);
                call("hcat", parts, sp)
            }
            Some(&k) if k > 2 => self.unsupported("array literal with `;;;`", n),
            _ => Ex::Matrix(self.matrix_rows(named)),
        }
    }

    /// The elements of each row of a matrix literal.
    fn matrix_rows(&mut self, named: &[Node]) -> Vec<Vec<Ex>> {
        let mut rows = vec![];
        for r in named {
            if r.kind() == "matrix_row" {
                let mut row = vec![];
                for c in syntax::named_children(*r) {
                    if !Self::is_skip(&c) {
                        row.extend(self.row_elements(c));
                    }
                }
                rows.push(row);
            } else {
                rows.push(self.row_elements(*r));
            }
        }
        rows
    }

    /// The elements one space-separated item of a matrix row stands for. Julia reads a `-`
    /// or `+` with space before it and none after as the sign of a new element
    /// (`[1.0 -2.0 3.0]` has three), while tree-sitter-julia reads a binary operation
    /// (`(1.0 - 2.0) 3.0`). So the chain of `+`/`-` operations at the top of the item is
    /// cut at each such operator: `[a -b + c]` is `[a (-b + c)]`, `[a - b]` one element.
    fn row_elements(&mut self, item: Node) -> Vec<Ex> {
        // The left-associative chain `t0 op1 t1 op2 t2 ...`, leftmost first.
        let mut terms: Vec<(Option<(String, bool)>, Node)> = vec![];
        let mut cur = item;
        loop {
            let parts = syntax::children(cur);
            let additive = cur.kind() == "binary_expression"
                && parts.len() == 3
                && parts[1].kind() == "operator"
                && matches!(self.text(parts[1]), "+" | "-");
            if !additive {
                terms.push((None, cur));
                break;
            }
            let op = parts[1];
            let bytes = self.src.as_bytes();
            let space = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
            let starts_element = op.start_byte() > 0
                && space(bytes.get(op.start_byte() - 1))
                && !space(bytes.get(op.end_byte()))
                && parts[2].start_byte() == op.end_byte();
            terms.push((Some((self.text(op).to_string(), starts_element)), parts[2]));
            cur = parts[0];
        }
        terms.reverse();
        let mut elements: Vec<Ex> = vec![];
        for (op, node) in terms {
            let sp = self.span(node);
            let x = self.expr(node);
            match op {
                None => elements.push(x),
                Some((op, true)) => elements.push(call(&op, vec![x], sp)),
                Some((op, false)) => {
                    let acc = elements.pop().expect("the chain starts with a term");
                    elements.push(call(&op, vec![acc, x], sp));
                }
            }
        }
        elements
    }

    /// `a:b` and `a:s:b`.
    fn range_expr(&mut self, n: Node, named: &[Node]) -> Ex {
        if named.len() != 2 {
            return self.unsupported("range expression", n);
        }
        let first = named[0];
        let stop = self.expr(named[1]);
        if first.kind() == "range_expression" {
            let inner = syntax::named_children(first);
            if inner.len() == 2 {
                let a = self.expr(inner[0]);
                let s = self.expr(inner[1]);
                return Ex::Range(Box::new(a), Some(Box::new(s)), Box::new(stop));
            }
        }
        let a = self.expr(first);
        Ex::Range(Box::new(a), None, Box::new(stop))
    }

    /// `if`/`elseif`/`else`, the alternatives chained from the last.
    fn if_stmt(&mut self, n: Node) -> Ex {
        let cond = match n.child_by_field_name("condition") {
            Some(c) => c,
            None => return self.unsupported("if without condition", n),
        };
        let mut body = vec![];
        let mut alt = None;
        let mut cursor = n.walk();
        let mut alt_nodes = vec![];
        for (i, c) in n.children(&mut cursor).enumerate() {
            let _ = i;
            if !c.is_named() || Self::is_skip(&c) || c.id() == cond.id() {
                continue;
            }
            if matches!(c.kind(), "elseif_clause" | "else_clause") {
                alt_nodes.push(c);
            } else {
                body.push(c);
            }
        }
        let c = self.expr(cond);
        let b = self.block_nodes(&body);
        // chain alternatives from the last
        for a in alt_nodes.into_iter().rev() {
            let lowered = if a.kind() == "else_clause" {
                let inner: Vec<Node> = syntax::named_children(a);
                self.block_nodes(&inner)
            } else {
                let mut e = self.expr(a);
                if let (Ex::If(_, _, slot), Some(prev)) = (&mut e, alt.take()) {
                    *slot = Some(Box::new(prev));
                }
                e
            };
            alt = Some(lowered);
        }
        Ex::If(Box::new(c), Box::new(b), alt.map(Box::new))
    }

    /// `for x in xs, y in ys ... end`.
    fn for_stmt(&mut self, named: &[Node]) -> Ex {
        let mut iters = vec![];
        let mut body = vec![];
        for c in named {
            if c.kind() == "for_binding" {
                match self.binding(*c) {
                    Some(b) => iters.push(b),
                    None => return self.unsupported("for binding", *c),
                }
            } else {
                body.push(*c);
            }
        }
        let body = self.block_nodes(&body);
        Ex::For {
            iters,
            body: Box::new(body),
        }
    }

    /// `while cond ... end`.
    fn while_stmt(&mut self, n: Node, named: &[Node]) -> Ex {
        let cond = match n.child_by_field_name("condition") {
            Some(c) => c,
            None => return self.unsupported("while", n),
        };
        let body: Vec<Node> = named
            .iter()
            .copied()
            .filter(|c| c.id() != cond.id())
            .collect();
        let c = self.expr(cond);
        let b = self.block_nodes(&body);
        Ex::While(Box::new(c), Box::new(b))
    }

    /// `let a = 1, b ... end`.
    fn let_stmt(&mut self, n: Node, named: &[Node]) -> Ex {
        let mut binds = vec![];
        let mut body = vec![];
        for c in named {
            match c.kind() {
                "let_binding" => {
                    let ch = syntax::named_children(*c);
                    let ch: Vec<Node> = ch.into_iter().filter(|x| x.kind() != "operator").collect();
                    if ch.len() == 2 {
                        let lv = self.lvalue(ch[0]);
                        let v = self.expr(ch[1]);
                        binds.push((lv, Some(v)));
                    } else if ch.len() == 1 {
                        binds.push((self.lvalue(ch[0]), None));
                    }
                }
                "identifier" if body.is_empty() && self.same_row_as_let(n, *c) => {
                    binds.push((Lv::Var(name(self.text(*c))), None));
                }
                _ => body.push(*c),
            }
        }
        let b = self.block_nodes(&body);
        Ex::Let(binds, Box::new(b))
    }

    /// `function f(x) ... end` (and `function f end`).
    fn function_def(&mut self, n: Node, named: &[Node]) -> Ex {
        let sig = named.iter().find(|c| c.kind() == "signature").copied();
        let body: Vec<Node> = named
            .iter()
            .copied()
            .filter(|c| c.kind() != "signature")
            .collect();
        match sig {
            Some(s) => {
                let inner = syntax::named_children(s);
                match inner.first() {
                    Some(target) => self.func_def(*target, FnBody::Nodes(&body), n),
                    None => self.unsupported("function signature", n),
                }
            }
            None => Ex::Lit(Lit::Nothing), // `function f end`
        }
    }

    /// `x += y`, `x .+= y`, `x .= y`.
    fn update(&mut self, n: Node, named: &[Node], sp: Span) -> Ex {
        if named.len() < 2 {
            return self.unsupported("update", n);
        }
        let lhs = named[0];
        let rhs = *named.last().unwrap();
        let op = syntax::children(n)
            .into_iter()
            .find(|c| c.kind() == "operator")
            .map(|o| self.text(o).to_string())
            .unwrap_or_default();
        let lv = self.lvalue(lhs);
        let lhs_ex = self.expr(lhs);
        let r = self.expr(rhs);
        if op == ".=" {
            Ex::DotAssign(lv, Box::new(r), sp)
        } else if let Some(o) = op.strip_prefix('.') {
            let o = o.trim_end_matches('=');
            let rhs = Ex::Bcast {
                f: Box::new(Ex::Var(name(o), sp)),
                args: vec![
                    Arg {
                        ex: lhs_ex,
                        splat: false,
                    },
                    Arg {
                        ex: r,
                        splat: false,
                    },
                ],
                span: sp,
            };
            Ex::DotAssign(lv, Box::new(rhs), sp)
        } else {
            let o = op.trim_end_matches('=');
            Ex::Assign(lv, Box::new(call(o, vec![lhs_ex, r], sp)), sp)
        }
    }

    /// `x -> body`, `(x, y) -> body`.
    fn arrow(&mut self, n: Node, named: &[Node], sp: Span) -> Ex {
        if named.len() < 2 {
            return self.unsupported("arrow function", n);
        }
        let params_node = named[0];
        let body_node = *named.last().unwrap();
        self.try_seen.push(None);
        let body = self.expr(body_node);
        let try_span = self.try_seen.pop().flatten();
        let (params, kwparams, kwsplat) = match params_node.kind() {
            "argument_list" | "tuple_expression" | "parenthesized_expression" => {
                self.params(params_node)
            }
            _ => (vec![self.param(params_node)], vec![], None),
        };
        let destructure = std::mem::take(&mut self.pending_destructure);
        Self::lambda((params, kwparams, kwsplat), body, try_span, sp, destructure)
    }

    /// `const`, `global` and `local` declarations.
    fn declaration(&mut self, n: Node, named: &[Node]) -> Ex {
        let mut out = vec![];
        let mut names = vec![];
        for c in named {
            match c.kind() {
                "identifier" => names.push(name(self.text(*c))),
                "assignment" => {
                    if let Some(first) = syntax::named_children(*c).first() {
                        collect_names(self, *first, &mut names);
                    }
                    out.push(self.expr(*c));
                }
                "open_tuple" => {
                    for x in syntax::named_children(*c) {
                        if x.kind() == "identifier" {
                            names.push(name(self.text(x)));
                        }
                    }
                }
                "typed_expression" => {
                    if let Some(first) = syntax::named_children(*c).first() {
                        names.push(name(self.text(*first)));
                    }
                }
                _ => out.push(self.expr(*c)),
            }
        }
        let decl = match n.kind() {
            "global_statement" => Ex::Global(names),
            "local_statement" => Ex::Local(names),
            _ => Ex::Const(names),
        };
        let mut v = vec![decl];
        v.extend(out);
        Ex::Block(v)
    }

    fn same_row_as_let(&self, let_node: Node, c: Node) -> bool {
        c.start_position().row == let_node.start_position().row
    }

    fn string_lit(&mut self, n: Node) -> Ex {
        let mut parts: Vec<Ex> = vec![];
        let mut cur = String::new();
        let mut any_interp = false;
        for c in syntax::children(n) {
            match c.kind() {
                "content" => cur.push_str(self.text(c)),
                "escape_sequence" => {
                    let t = self.text(c);
                    let ch = match t {
                        "\\n" => "\n",
                        "\\t" => "\t",
                        "\\\"" => "\"",
                        "\\\\" => "\\",
                        "\\$" => "$",
                        "\\r" => "\r",
                        other => other,
                    };
                    cur.push_str(ch);
                }
                "string_interpolation" => {
                    any_interp = true;
                    if !cur.is_empty() {
                        parts.push(Ex::Lit(Lit::Str(text(&cur))));
                        cur.clear();
                    }
                    match syntax::named_children(c)
                        .into_iter()
                        .find(|x| !Self::is_skip(x))
                    {
                        Some(x) => parts.push(self.expr(x)),
                        None => return self.unsupported("string interpolation", c),
                    }
                }
                _ => {}
            }
        }
        if !any_interp {
            return Ex::Lit(Lit::Str(text(&cur)));
        }
        if !cur.is_empty() {
            parts.push(Ex::Lit(Lit::Str(text(&cur))));
        }
        Ex::Interp(parts)
    }

    fn generator(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let mut body = None;
        let mut iters = vec![];
        let mut cond = None;
        for c in named {
            match c.kind() {
                "for_clause" => {
                    for b in syntax::named_children(*c) {
                        if b.kind() == "for_binding" {
                            match self.binding(b) {
                                Some(x) => iters.push(x),
                                None => return self.unsupported("comprehension binding", b),
                            }
                        }
                    }
                }
                "if_clause" => {
                    if let Some(x) = syntax::named_children(*c)
                        .into_iter()
                        .find(|x| !Self::is_skip(x))
                    {
                        cond = Some(Box::new(self.expr(x)));
                    }
                }
                _ if body.is_none() => body = Some(self.expr(*c)),
                _ => return self.unsupported("comprehension", n),
            }
        }
        match body {
            Some(b) if !iters.is_empty() => Ex::Comprehension {
                body: Box::new(b),
                iters,
                cond,
                span: sp,
            },
            _ => self.unsupported("comprehension", n),
        }
    }

    fn binding(&mut self, b: Node) -> Option<(Lv, Ex)> {
        let ch: Vec<Node> = syntax::named_children(b)
            .into_iter()
            .filter(|x| x.kind() != "operator" && !Self::is_skip(x))
            .collect();
        if ch.len() != 2 {
            return None;
        }
        Some((self.lvalue(ch[0]), self.expr(ch[1])))
    }

    fn callee(&mut self, c: Node) -> Ex {
        self.expr(c)
    }

    fn call_expr(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let callee_node = named[0];
        let callee_txt = self.text(callee_node);
        let (mut args, kw) = match named.iter().find(|c| c.kind() == "argument_list") {
            Some(al) => self.arg_list(*al),
            None => (vec![], vec![]),
        };
        if callee_txt == "ccall" {
            return self.ccall(n);
        }
        if let Some(d) = named.iter().find(|c| c.kind() == "do_clause") {
            let lam = self.do_lambda(*d);
            args.insert(
                0,
                Arg {
                    ex: lam,
                    splat: false,
                },
            );
        }
        let f = self.callee(callee_node);
        Ex::Call {
            f: Box::new(f),
            args,
            kw,
            span: sp,
        }
    }

    /// An anonymous function (`x -> ...`, a `do` block) of these parameters and body.
    fn lambda(
        (params, kwparams, kwsplat): (Vec<Param>, Vec<Param>, Option<Name>),
        body: Ex,
        try_span: Option<Span>,
        span: Span,
        destructure: Vec<(usize, Lv)>,
    ) -> Ex {
        Ex::Lambda(Rc::new(FuncDef {
            name: None,
            qualifier: vec![],
            callable: None,
            params,
            kwparams,
            kwsplat,
            body,
            try_span,
            span,
            destructure,
        }))
    }

    fn do_lambda(&mut self, d: Node) -> Ex {
        let sp = self.span(d);
        let ch: Vec<Node> = syntax::named_children(d)
            .into_iter()
            .filter(|c| !Self::is_skip(c))
            .collect();
        let (params, kwparams, kwsplat, body_nodes) = match ch.first() {
            Some(p) if p.kind() == "argument_list" => {
                let (a, b, c) = self.params(*p);
                (a, b, c, ch[1..].to_vec())
            }
            _ => (vec![], vec![], None, ch.clone()),
        };
        let destructure = std::mem::take(&mut self.pending_destructure);
        self.try_seen.push(None);
        let body = self.block_nodes(&body_nodes);
        let try_span = self.try_seen.pop().flatten();
        Self::lambda((params, kwparams, kwsplat), body, try_span, sp, destructure)
    }

    fn ccall(&mut self, n: Node) -> Ex {
        let sp = self.span(n);
        let al = match syntax::named_children(n)
            .into_iter()
            .find(|c| c.kind() == "argument_list")
        {
            Some(a) => a,
            None => return self.unsupported("ccall", n),
        };
        let ch: Vec<Node> = syntax::named_children(al)
            .into_iter()
            .filter(|c| !Self::is_skip(c))
            .collect();
        if ch.len() < 3 {
            return self.unsupported("ccall", n);
        }
        let fname = self.text(ch[0]).trim_start_matches(':').to_string();
        let ret = self.text(ch[1]).to_string();
        let argtys = self.text(ch[2]).to_string();
        let args = ch[3..].iter().map(|c| self.expr(*c)).collect();
        Ex::Ccall {
            name: name(&fname),
            ret: name(&ret),
            argtys: name(&argtys),
            args,
            span: sp,
        }
    }

    fn arg(&mut self, c: Node) -> Arg {
        if c.kind() == "splat_expression" {
            let inner = syntax::named_children(c)
                .into_iter()
                .find(|x| !Self::is_skip(x));
            return match inner {
                Some(i) => Arg {
                    ex: self.expr(i),
                    splat: true,
                },
                None => Arg {
                    ex: self.unsupported("splat", c),
                    splat: false,
                },
            };
        }
        Arg {
            ex: self.expr(c),
            splat: false,
        }
    }

    fn arg_list(&mut self, al: Node) -> (Vec<Arg>, Vec<KwArg>) {
        let mut args = vec![];
        let mut kw = vec![];
        let mut after_semi = false;
        let all = syntax::children(al);
        if all.iter().any(|c| c.kind() == "for_clause") {
            let named: Vec<Node> = all
                .iter()
                .copied()
                .filter(|c| c.is_named() && !Self::is_skip(c))
                .collect();
            let g = self.generator(al, &named);
            return (
                vec![Arg {
                    ex: g,
                    splat: false,
                }],
                vec![],
            );
        }
        for c in all {
            if c.kind() == ";" {
                after_semi = true;
                continue;
            }
            if !c.is_named() || Self::is_skip(&c) {
                continue;
            }
            match c.kind() {
                "named_argument" => {
                    if let Some((k, v)) = self.key_and_value(c) {
                        let k = name(self.text(k));
                        let v = self.expr(v);
                        kw.push(KwArg::Named(k, v));
                    }
                }
                "splat_expression" if after_semi => {
                    if let Some(i) = syntax::named_children(c).first() {
                        let e = self.expr(*i);
                        kw.push(KwArg::Splat(e));
                    }
                }
                "identifier" if after_semi => {
                    let k = name(self.text(c));
                    kw.push(KwArg::Named(k.clone(), Ex::Var(k, self.span(c))));
                }
                _ => args.push(self.arg(c)),
            }
        }
        (args, kw)
    }

    fn tuple(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let has_semi = syntax::children(n).iter().any(|c| c.kind() == ";");
        if named.iter().any(|c| c.kind() == "named_field") || has_semi {
            let mut fields = vec![];
            for c in named {
                match c.kind() {
                    "named_field" | "named_argument" | "assignment" => {
                        let ch: Vec<Node> = syntax::named_children(*c)
                            .into_iter()
                            .filter(|x| x.kind() != "operator")
                            .collect();
                        if ch.len() == 2 {
                            let k = name(self.text(ch[0]));
                            fields.push((k, self.expr(ch[1])));
                        }
                    }
                    "identifier" => {
                        let k = name(self.text(*c));
                        fields.push((k.clone(), Ex::Var(k, sp)));
                    }
                    _ => return self.unsupported("named tuple", n),
                }
            }
            return Ex::NamedTuple(fields);
        }
        let mut args = vec![];
        for c in named {
            args.push(self.arg(*c));
        }
        Ex::Tuple(args)
    }

    fn binary(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let ops: Vec<Node> = syntax::children(n)
            .into_iter()
            .filter(|c| c.kind() == "operator")
            .collect();
        let operands: Vec<Node> = named
            .iter()
            .copied()
            .filter(|c| c.kind() != "operator")
            .collect();
        if ops.len() != 1 || operands.len() != 2 {
            return self.unsupported("binary expression", n);
        }
        let op = self.text(ops[0]);
        if op == "^" && operands[0].kind() == "juxtaposition_expression" {
            // `3x^2` is `3 * (x^2)` in Julia
            let j = syntax::named_children(operands[0]);
            if j.len() == 2 {
                let c = self.expr(j[0]);
                let base = self.expr(j[1]);
                let e = self.expr(operands[1]);
                return call("*", vec![c, call("^", vec![base, e], sp)], sp);
            }
        }
        let a = self.expr(operands[0]);
        let b = self.expr(operands[1]);
        match op {
            "&&" => Ex::And(Box::new(a), Box::new(b)),
            "||" => Ex::Or(Box::new(a), Box::new(b)),
            "|>" => Ex::Call {
                f: Box::new(b),
                args: vec![Arg {
                    ex: a,
                    splat: false,
                }],
                kw: vec![],
                span: sp,
            },
            "=>" => call("Pair", vec![a, b], sp),
            "<:" | ">:" => self.unsupported("subtype operator", n),
            _ if op.len() > 1 && op.starts_with('.') && op != ".." => Ex::Bcast {
                f: Box::new(Ex::Var(name(&op[1..]), sp)),
                args: vec![
                    Arg {
                        ex: a,
                        splat: false,
                    },
                    Arg {
                        ex: b,
                        splat: false,
                    },
                ],
                span: sp,
            },
            _ => call(op, vec![a, b], sp),
        }
    }

    fn lvalue(&mut self, n: Node) -> Lv {
        if self.depth >= MAX_NESTING {
            return Lv::Discard;
        }
        self.depth += 1;
        let r = self.lvalue_inner(n);
        self.depth -= 1;
        r
    }

    fn lvalue_inner(&mut self, n: Node) -> Lv {
        match n.kind() {
            "identifier" => {
                let t = self.text(n);
                if t == "_" {
                    Lv::Discard
                } else {
                    Lv::Var(name(t))
                }
            }
            "typed_expression" => match syntax::named_children(n).first() {
                Some(x) => self.lvalue(*x),
                None => Lv::Discard,
            },
            "tuple_expression" | "open_tuple" | "parenthesized_expression" => {
                let has_semi = syntax::children(n).iter().any(|c| c.kind() == ";");
                let ch: Vec<Node> = syntax::named_children(n)
                    .into_iter()
                    .filter(|c| !Self::is_skip(c))
                    .collect();
                if has_semi {
                    return Lv::Props(ch.iter().map(|c| name(self.text(*c))).collect());
                }
                if n.kind() == "parenthesized_expression" && ch.len() == 1 {
                    return self.lvalue(ch[0]);
                }
                Lv::Tuple(ch.iter().map(|c| self.lvalue(*c)).collect())
            }
            "index_expression" => match self.expr(n) {
                Ex::Index { obj, idx, .. } => Lv::Index(obj, idx),
                _ => Lv::Discard,
            },
            "field_expression" => match self.expr(n) {
                Ex::Field { obj, name, .. } => Lv::Field(obj, name),
                Ex::Var(v, _) => Lv::Var(v),
                _ => Lv::Discard,
            },
            _ => Lv::Discard,
        }
    }

    fn assignment(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let parts: Vec<Node> = named
            .iter()
            .copied()
            .filter(|c| c.kind() != "operator")
            .collect();
        if parts.len() != 2 {
            return self.unsupported("assignment", n);
        }
        let lhs = parts[0];
        let rhs = parts[1];
        let is_def = match lhs.kind() {
            "call_expression" => true,
            "where_expression" => true,
            "typed_expression" => syntax::named_children(lhs)
                .first()
                .map(|c| c.kind() == "call_expression")
                .unwrap_or(false),
            _ => false,
        };
        if is_def {
            return self.func_def(lhs, FnBody::Node(rhs), n);
        }
        let lv = self.lvalue(lhs);
        if matches!(lv, Lv::Discard) && self.text(lhs) != "_" {
            return self.unsupported(&format!("assignment target {}", lhs.kind()), n);
        }
        let r = self.expr(rhs);
        Ex::Assign(lv, Box::new(r), sp)
    }

    fn try_stmt(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        if let Some(t) = self.try_seen.last_mut() {
            if t.is_none() {
                *t = Some(sp);
            }
        }
        let mut body = vec![];
        let mut catch_var = None;
        let mut catch_body = None;
        let mut catch_line = sp.line;
        let mut fin = None;
        for c in named {
            match c.kind() {
                "catch_clause" => {
                    let kw_row = c.start_position().row;
                    let ch: Vec<Node> = syntax::named_children(*c)
                        .into_iter()
                        .filter(|x| !Self::is_skip(x))
                        .collect();
                    let mut stmts = ch.clone();
                    if let Some(first) = ch.first() {
                        if first.kind() == "identifier" && first.start_position().row == kw_row {
                            catch_var = Some(name(self.text(*first)));
                            stmts.remove(0);
                        }
                    }
                    catch_line = stmts
                        .first()
                        .map(|s| s.start_position().row as u32 + 1)
                        .unwrap_or(c.start_position().row as u32 + 1);
                    catch_body = Some(Box::new(self.block_nodes(&stmts)));
                }
                "finally_clause" => {
                    let ch: Vec<Node> = syntax::named_children(*c);
                    fin = Some(Box::new(self.block_nodes(&ch)));
                }
                "else_clause" => return self.unsupported("try/catch/else", *c),
                _ => body.push(*c),
            }
        }
        let b = self.block_nodes(&body);
        Ex::Try {
            body: Box::new(b),
            catch_var,
            catch_body,
            catch_line,
            finally: fin,
            span: sp,
        }
    }

    fn ty(&self, n: Node) -> Ty {
        match n.kind() {
            "identifier" => {
                let t = self.text(n);
                for scope in self.where_vars.iter().rev() {
                    if let Some(ty) = scope.get(t) {
                        return ty.clone();
                    }
                }
                if t == "Any" {
                    Ty::Any
                } else {
                    Ty::Named(name(t))
                }
            }
            "parametrized_type_expression" => match syntax::named_children(n).first() {
                Some(b) if self.text(*b) == "Type" => Ty::TypeVal,
                Some(b) => self.ty(*b),
                None => Ty::Any,
            },
            "field_expression" => match syntax::named_children(n).last() {
                Some(l) => self.ty(*l),
                None => Ty::Any,
            },
            "call_expression" => {
                let ch = syntax::named_children(n);
                if ch.len() == 2 && self.text(ch[0]) == "typeof" {
                    let inner = syntax::named_children(ch[1]);
                    if let Some(f) = inner.iter().find(|c| !Self::is_skip(c)) {
                        let t = self.text(*f);
                        let t = t.rsplit('.').next().unwrap_or(t);
                        return Ty::TypeOf(name(t));
                    }
                }
                Ty::Any
            }
            _ => Ty::Any,
        }
    }

    fn param(&mut self, p: Node) -> Param {
        match p.kind() {
            "identifier" => Param {
                name: Some(name(self.text(p))),
                ty: Ty::Any,
                default: None,
                splat: false,
            },
            "typed_expression" => {
                let ch = syntax::named_children(p);
                let nm = ch.first().map(|c| name(self.text(*c)));
                let ty = ch.get(1).map(|t| self.ty(*t)).unwrap_or(Ty::Any);
                Param {
                    name: nm,
                    ty,
                    default: None,
                    splat: false,
                }
            }
            "unary_typed_expression" => {
                let ch = syntax::named_children(p);
                let ty = ch.last().map(|t| self.ty(*t)).unwrap_or(Ty::Any);
                Param {
                    name: None,
                    ty,
                    default: None,
                    splat: false,
                }
            }
            "splat_expression" => {
                let mut inner = match syntax::named_children(p).first() {
                    Some(i) => self.param(*i),
                    None => Param {
                        name: None,
                        ty: Ty::Any,
                        default: None,
                        splat: false,
                    },
                };
                inner.splat = true;
                inner
            }
            "named_argument" => match self.key_and_value(p) {
                Some((k, v)) => {
                    let mut base = self.param(k);
                    base.default = Some(self.expr(v));
                    base
                }
                None => Param {
                    name: None,
                    ty: Ty::Any,
                    default: None,
                    splat: false,
                },
            },
            "tuple_expression" => Param {
                name: None,
                ty: Ty::Named(name("__destructure__")),
                default: None,
                splat: false,
            },
            _ => Param {
                name: Some(name(self.text(p))),
                ty: Ty::Any,
                default: None,
                splat: false,
            },
        }
    }

    fn params(&mut self, al: Node) -> (Vec<Param>, Vec<Param>, Option<Name>) {
        let mut params = vec![];
        let mut kwparams = vec![];
        let mut kwsplat = None;
        let mut after_semi = false;
        for c in syntax::children(al) {
            if c.kind() == ";" {
                after_semi = true;
                continue;
            }
            if !c.is_named() || Self::is_skip(&c) {
                continue;
            }
            if after_semi {
                if c.kind() == "splat_expression" {
                    kwsplat = syntax::named_children(c)
                        .first()
                        .map(|i| name(self.text(*i)));
                } else {
                    kwparams.push(self.param(c));
                }
            } else if c.kind() == "tuple_expression" {
                let i = params.len();
                let lv = self.lvalue(c);
                self.pending_destructure.push((i, lv));
                params.push(Param {
                    name: Some(name(&format!("#destructure{i}"))),
                    ty: Ty::Any,
                    default: None,
                    splat: false,
                });
            } else {
                params.push(self.param(c));
            }
        }
        (params, kwparams, kwsplat)
    }

    fn func_def(&mut self, target: Node, body: FnBody, whole: Node) -> Ex {
        let sp = self.span(whole);
        // peel `::RetType` and `where ...`
        let mut t = target;
        let mut wheres = HashMap::new();
        loop {
            match t.kind() {
                "typed_expression" => match syntax::named_children(t).first() {
                    Some(x) => t = *x,
                    None => break,
                },
                "where_expression" => {
                    let ch = syntax::named_children(t);
                    for w in ch.iter().skip(1) {
                        self.collect_where(*w, &mut wheres);
                    }
                    match ch.first() {
                        Some(x) => t = *x,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        if t.kind() != "call_expression" {
            return self.unsupported("function signature", whole);
        }
        self.where_vars.push(wheres);
        let ch = syntax::named_children(t);
        let callee = ch[0];
        let mut qualifier = vec![];
        let mut callable = None;
        let fname: Option<Name> = match callee.kind() {
            "identifier" => Some(name(self.text(callee))),
            "field_expression" => {
                let txt = self.text(callee);
                let mut parts: Vec<&str> = txt.split('.').collect();
                let last = parts.pop().unwrap_or("");
                qualifier = parts.into_iter().map(name).collect();
                Some(name(last.trim_start_matches(':')))
            }
            "parenthesized_expression" => {
                let inner = syntax::named_children(callee);
                match inner.first() {
                    Some(x) if x.kind() == "typed_expression" => {
                        let xc = syntax::named_children(*x);
                        let recv = xc.first().map(|c| name(self.text(*c)));
                        if let Some(Ty::Named(tn)) = xc.get(1).map(|c| self.ty(*c)) {
                            callable = Some((tn, recv));
                        }
                    }
                    Some(x) if x.kind() == "unary_typed_expression" => {
                        if let Some(Ty::Named(tn)) =
                            syntax::named_children(*x).last().map(|c| self.ty(*c))
                        {
                            callable = Some((tn, None));
                        }
                    }
                    _ => {}
                }
                None
            }
            _ => None,
        };
        if fname.is_none() && callable.is_none() {
            self.where_vars.pop();
            return self.unsupported("function name", whole);
        }
        let (params, kwparams, kwsplat) = match ch.iter().find(|c| c.kind() == "argument_list") {
            Some(al) => self.params(*al),
            None => (vec![], vec![], None),
        };
        let destructure = std::mem::take(&mut self.pending_destructure);
        let (where_bindings, unnamed) = match ch.iter().find(|c| c.kind() == "argument_list") {
            Some(al) => self.where_bindings(*al, sp),
            None => (vec![], vec![]),
        };
        let mut params = params;
        for k in unnamed {
            if let Some(p) = params.get_mut(k).filter(|p| p.name.is_none()) {
                p.name = Some(name(&format!("#arg{k}")));
            }
        }
        self.try_seen.push(None);
        let b = match body {
            FnBody::Nodes(ns) => self.block_nodes(ns),
            FnBody::Node(n) => self.expr(n),
        };
        let b = match where_bindings.is_empty() {
            true => b,
            false => Ex::Block(where_bindings.into_iter().chain([b]).collect()),
        };
        let try_span = self.try_seen.pop().flatten();
        self.where_vars.pop();
        Ex::FuncDef(Rc::new(FuncDef {
            name: fname,
            qualifier,
            callable,
            params,
            kwparams,
            kwsplat,
            body: b,
            try_span,
            span: sp,
            destructure,
        }))
    }

    /// Bindings of the method's `where` parameters, from the positional arguments, run
    /// before its body: `x::T` gives `T = typeof(x)`, `x::AbstractVector{T}` (any
    /// parametrized type, by its first parameter) `T = eltype(x)`, `::Type{T}` `T = x`.
    /// An unnamed parameter (`::Type{T}`) is named `#arg<k>` for this (the positions are
    /// returned).
    fn where_bindings(&self, al: Node, sp: Span) -> (Vec<Ex>, Vec<usize>) {
        let Some(wheres) = self.where_vars.last() else {
            return (vec![], vec![]);
        };
        let mut bound: Vec<String> = vec![];
        let mut out = vec![];
        let mut unnamed = vec![];
        let positional = (syntax::children(al).into_iter())
            .take_while(|c| c.kind() != ";")
            .filter(|c| c.is_named() && !Self::is_skip(c));
        for (k, c) in positional.enumerate() {
            let typed = match c.kind() {
                "typed_expression" | "unary_typed_expression" => c,
                "optional_expression" => match syntax::named_children(c).first() {
                    Some(t) if t.kind() == "typed_expression" => *t,
                    _ => continue,
                },
                _ => continue,
            };
            let parts = syntax::named_children(typed);
            let Some(ann) = parts.last() else {
                continue;
            };
            let var = match (typed.kind(), parts.first()) {
                ("unary_typed_expression", _) => format!("#arg{k}"),
                (_, Some(v)) if parts.len() == 2 && v.kind() == "identifier" => {
                    self.text(*v).to_string()
                }
                _ => continue,
            };
            let arg = Ex::Var(name(&var), sp);
            let (tvar, value) = match ann.kind() {
                "identifier" => (self.text(*ann), call("typeof", vec![arg], sp)),
                "parametrized_type_expression" => {
                    let pieces = syntax::named_children(*ann);
                    let base = pieces.first().map(|b| self.text(*b)).unwrap_or("");
                    let first = pieces.get(1).and_then(|args| {
                        let inner = syntax::named_children(*args);
                        inner.first().copied()
                    });
                    let Some(first) = first else { continue };
                    let first = match first.kind() {
                        // `{<:T}`
                        "unary_expression" | "unary_typed_expression" => {
                            match syntax::named_children(first).last() {
                                Some(x) => *x,
                                None => continue,
                            }
                        }
                        _ => first,
                    };
                    if first.kind() != "identifier" {
                        continue;
                    }
                    let value = match base {
                        "Type" => arg,
                        _ => call("eltype", vec![arg], sp),
                    };
                    (self.text(first), value)
                }
                _ => continue,
            };
            if wheres.contains_key(tvar) && !bound.iter().any(|b| b == tvar) {
                bound.push(tvar.to_string());
                out.push(Ex::Assign(Lv::Var(name(tvar)), Box::new(value), sp));
                if typed.kind() == "unary_typed_expression" {
                    unnamed.push(k);
                }
            }
        }
        (out, unnamed)
    }

    fn collect_where(&self, w: Node, out: &mut HashMap<String, Ty>) {
        match w.kind() {
            "identifier" => {
                out.insert(self.text(w).to_string(), Ty::Any);
            }
            "curly_expression" => {
                for c in syntax::named_children(w) {
                    self.collect_where(c, out);
                }
            }
            "binary_expression" => {
                let ch: Vec<Node> = syntax::named_children(w)
                    .into_iter()
                    .filter(|c| c.kind() != "operator")
                    .collect();
                if ch.len() == 2 {
                    let bound = self.ty(ch[1]);
                    out.insert(self.text(ch[0]).to_string(), bound);
                }
            }
            _ => {}
        }
    }

    fn macrocall(&mut self, n: Node, named: &[Node]) -> Ex {
        let sp = self.span(n);
        let mid = match named.iter().find(|c| c.kind() == "macro_identifier") {
            Some(m) => *m,
            None => return self.unsupported("macro", n),
        };
        let mname = self.text(mid).trim_start_matches('@').to_string();
        let args: Vec<Node> = named
            .iter()
            .find(|c| matches!(c.kind(), "macro_argument_list" | "argument_list"))
            .map(|a| {
                syntax::named_children(*a)
                    .into_iter()
                    .filter(|x| !Self::is_skip(x))
                    .collect()
            })
            .unwrap_or_default();
        let last = args.last().copied();
        match mname.as_str() {
            "." | "__dot__" => match last {
                Some(a) => {
                    let e = self.expr(a);
                    dotify(e)
                }
                None => self.unsupported("@.", n),
            },
            "show" | "info" | "warn" | "debug" | "error" | "printf" | "println" | "assert"
                if mname != "assert" =>
            {
                Ex::Lit(Lit::Nothing)
            }
            "assert" => match args.first() {
                Some(c) => {
                    let cond = self.expr(*c);
                    let msg = format!("AssertionError: {}", self.text(*c));
                    Ex::If(
                        Box::new(cond),
                        Box::new(Ex::Lit(Lit::Nothing)),
                        Some(Box::new(call(
                            "error",
                            vec![Ex::Lit(Lit::Str(text(&msg)))],
                            sp,
                        ))),
                    )
                }
                None => Ex::Lit(Lit::Nothing),
            },
            "inbounds" | "views" | "simd" | "fastmath" | "inline" | "noinline" | "time"
            | "elapsed" | "propagate_inbounds" | "nospecialize" | "view" => match last {
                Some(a) => {
                    if mname == "elapsed" {
                        let e = self.expr(a);
                        Ex::Block(vec![e, Ex::Lit(Lit::Float(0.0))])
                    } else {
                        self.expr(a)
                    }
                }
                None => Ex::Lit(Lit::Nothing),
            },
            "functor" | "layer" | "treelike" | "kwdef" if mname != "kwdef" => Ex::Lit(Lit::Nothing),
            "ignore_derivatives" | "ignore" => match last {
                Some(a) => Ex::Ignore(Box::new(self.expr(a))),
                None => Ex::Lit(Lit::Nothing),
            },
            "non_differentiable" => match last {
                Some(a) if a.kind() == "call_expression" => {
                    let callee = syntax::named_children(a)[0];
                    let t = self.text(callee);
                    let t = t.rsplit('.').next().unwrap_or(t);
                    Ex::NonDiff(name(t))
                }
                Some(a) if a.kind() == "identifier" => Ex::NonDiff(name(self.text(a))),
                _ => self.unsupported("@non_differentiable form", n),
            },
            "nograd" => {
                let mut v = vec![];
                for a in &args {
                    match a.kind() {
                        "identifier" => v.push(Ex::NonDiff(name(self.text(*a)))),
                        "open_tuple" | "tuple_expression" => {
                            for c in syntax::named_children(*a) {
                                if c.kind() == "identifier" {
                                    v.push(Ex::NonDiff(name(self.text(c))));
                                }
                            }
                        }
                        _ => return self.unsupported("@nograd form", n),
                    }
                }
                Ex::Block(v)
            }
            "adjoint" => match last {
                Some(a) => match self.expr(a) {
                    Ex::FuncDef(fd) => Ex::Adjoint(fd),
                    _ => self.unsupported("@adjoint form", n),
                },
                None => self.unsupported("@adjoint", n),
            },
            "ccall" => self.unsupported_ccall_macro(n),
            "threads" => match last {
                Some(a) if a.kind() == "for_statement" => Ex::Block(vec![
                    call("__threads_begin", vec![], sp),
                    self.expr(a),
                    call("__threads_end", vec![], sp),
                ]),
                _ => self.unsupported("@threads form", n),
            },
            // Test macros run their code as Julia's Test does: a `@testset` (or a
            // `@testitem`) is a scope whose error ends it and not the file; `@test` and
            // friends evaluate their expression, and an error there is the test's.
            "testset" | "testitem" => match last {
                Some(a) => {
                    let body = match a.kind() {
                        "for_statement" => self.expr(a),
                        _ => Ex::Let(vec![], Box::new(self.expr(a))),
                    };
                    self.contained(body, sp)
                }
                None => Ex::Lit(Lit::Nothing),
            },
            "test" | "test_broken" => match args.first() {
                Some(a) => {
                    let e = self.expr(*a);
                    self.contained(e, sp)
                }
                None => Ex::Lit(Lit::Nothing),
            },
            "test_throws" => match args.get(1) {
                Some(a) => {
                    let e = self.expr(*a);
                    self.contained(e, sp)
                }
                None => Ex::Lit(Lit::Nothing),
            },
            "test_skip" => Ex::Lit(Lit::Nothing),
            "test_logs" | "test_warn" | "test_nowarn" | "inferred" => match last {
                Some(a) => self.expr(a),
                None => Ex::Lit(Lit::Nothing),
            },
            "timed" => match last {
                Some(a) => call("__timed", vec![self.expr(a)], sp),
                None => self.unsupported("@timed", n),
            },
            _ => self.unsupported(&format!("macro @{mname}"), n),
        }
    }

    /// `try body catch end`: an error in `body` ends it and nothing more (a test's error
    /// is recorded by Julia's Test and the file goes on).
    fn contained(&self, body: Ex, span: Span) -> Ex {
        Ex::Try {
            body: Box::new(body),
            catch_var: None,
            catch_body: Some(Box::new(Ex::Lit(Lit::Nothing))),
            catch_line: span.line,
            finally: None,
            span,
        }
    }

    fn unsupported_ccall_macro(&mut self, n: Node) -> Ex {
        let sp = self.span(n);
        let t = self.text(n);
        let inner = t.trim_start_matches("@ccall").trim();
        let fname = inner.split('(').next().unwrap_or("").trim().to_string();
        Ex::Ccall {
            name: name(&fname),
            ret: name("Cvoid"),
            argtys: name("()"),
            args: vec![],
            span: sp,
        }
    }

    fn struct_def(&mut self, n: Node, named: &[Node]) -> Ex {
        let mutable = syntax::children(n)
            .iter()
            .any(|c| c.kind() == "mutable" || self.text(*c) == "mutable");
        let head = match named.iter().find(|c| c.kind() == "type_head") {
            Some(h) => *h,
            None => return self.unsupported("struct", n),
        };
        let mut supertype = None;
        let mut hn = syntax::named_children(head)
            .into_iter()
            .next()
            .unwrap_or(head);
        if hn.kind() == "binary_expression" {
            let ch: Vec<Node> = syntax::named_children(hn)
                .into_iter()
                .filter(|c| c.kind() != "operator")
                .collect();
            if ch.len() == 2 {
                if let Ty::Named(s) = self.ty(ch[1]) {
                    supertype = Some(s);
                }
                hn = ch[0];
            }
        }
        if hn.kind() == "parametrized_type_expression" {
            hn = syntax::named_children(hn)[0];
        }
        let sname = name(self.text(hn));
        let mut fields = vec![];
        let mut field_tys = vec![];
        for c in named {
            match c.kind() {
                "identifier" => {
                    fields.push(name(self.text(*c)));
                    field_tys.push(Ty::Any);
                }
                "typed_expression" => {
                    let ch = syntax::named_children(*c);
                    fields.push(name(self.text(ch[0])));
                    field_tys.push(ch.get(1).map(|t| self.ty(*t)).unwrap_or(Ty::Any));
                }
                "type_head" | "line_comment" | "block_comment" => {}
                "function_definition" | "assignment" => {
                    return self.unsupported("inner constructor", *c)
                }
                _ => return self.unsupported("struct body", *c),
            }
        }
        Ex::StructDef(Rc::new(StructDef {
            name: sname,
            mutable,
            fields,
            field_tys,
            supertype,
        }))
    }
}

enum FnBody<'n, 't> {
    Nodes(&'n [Node<'t>]),
    Node(Node<'t>),
}

fn collect_names(l: &Lowerer, n: Node, out: &mut Vec<Name>) {
    match n.kind() {
        "identifier" => out.push(name(l.text(n))),
        "typed_expression" => {
            if let Some(f) = syntax::named_children(n).first() {
                out.push(name(l.text(*f)));
            }
        }
        "open_tuple" | "tuple_expression" => {
            for c in syntax::named_children(n) {
                collect_names(l, c, out);
            }
        }
        _ => {}
    }
}
