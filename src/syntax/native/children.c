/*
 * The children of a tree-sitter node, read in one pass.
 *
 * tree-sitter's `ts_node_child(node, i)` starts from the first child on every call, so
 * reading a node's n children one by one costs n * (n + 1) / 2 steps, each several hundred
 * instructions once hidden nodes (repetitions, inlined rules) are stepped into; a tree
 * cursor's step costs as much. This walks the node's subtree array once and returns the
 * same nodes in the same order, with the same positions and aliases, as `ts_node_child`
 * (anonymous tokens included) or `ts_node_named_child` (named only) would one by one.
 *
 * It reads tree-sitter's internal representation through its own headers, so it is
 * compiled against the exact tree-sitter version `Cargo.toml` pins (see `build.rs`);
 * `src/syntax.rs` checks it against `ts_node_child` for every node of its test trees.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tree_sitter/api.h"
#include "language.h"
#include "length.h"
#include "subtree.h"
#include "tree.h"

/* Hidden nodes nest inside a visible one as deep as the grammar's inlined rules and the
 * balanced trees of repetitions (about log2 of a block's statements): far below this. */
#define MAX_HIDDEN_DEPTH 128

typedef struct {
  Subtree parent;
  Length position;
  uint32_t child_index;
  uint32_t structural_child_index;
  const TSSymbol *alias_sequence;
} Frame;

static inline Frame frame_of(const TSLanguage *language, Subtree subtree, Length position) {
  Frame frame = {
    .parent = subtree,
    .position = position,
    .child_index = 0,
    .structural_child_index = 0,
    .alias_sequence = ts_language_alias_sequence(language, subtree.ptr->production_id),
  };
  return frame;
}

/* Steps `frame` to its next child: the child, with its alias and position (node.c's
 * ts_node_child_iterator_next); NULL when there is none. */
static inline const Subtree *frame_next(Frame *frame, TSSymbol *alias, Length *position) {
  if (frame->child_index == frame->parent.ptr->child_count) return NULL;
  const Subtree *child = &ts_subtree_children(frame->parent)[frame->child_index];
  *alias = 0;
  if (!ts_subtree_extra(*child)) {
    if (frame->alias_sequence) *alias = frame->alias_sequence[frame->structural_child_index];
    frame->structural_child_index++;
  }
  if (frame->child_index > 0) {
    frame->position = length_add(frame->position, ts_subtree_padding(*child));
  }
  *position = frame->position;
  frame->position = length_add(frame->position, ts_subtree_size(*child));
  frame->child_index++;
  return child;
}

/* Whether the node is one of the children asked for (node.c's ts_node__is_relevant). */
static inline bool is_relevant(
  const TSLanguage *language, Subtree subtree, TSSymbol alias, bool anonymous
) {
  if (anonymous) return ts_subtree_visible(subtree) || alias;
  if (alias) return ts_language_symbol_metadata(language, alias).named;
  return ts_subtree_visible(subtree) && ts_subtree_named(subtree);
}

/* How many children asked for a node not asked for itself stands in for. */
static inline uint32_t relevant_child_count(Subtree subtree, bool anonymous) {
  if (ts_subtree_child_count(subtree) == 0) return 0;
  return anonymous ? subtree.ptr->visible_child_count : subtree.ptr->named_child_count;
}

/*
 * Writes the first `cap` children of `node` to `out`, in order, and returns how many it
 * wrote; UINT32_MAX if hidden nodes nest deeper than MAX_HIDDEN_DEPTH (the caller then asks
 * tree-sitter child by child).
 */
uint32_t adlint_node_children(TSNode node, bool anonymous, TSNode *out, uint32_t cap) {
  if (cap == 0 || node.id == NULL) return 0;
  Subtree root = *(const Subtree *)node.id;
  if (ts_subtree_child_count(root) == 0) return 0;
  const TSTree *tree = node.tree;
  const TSLanguage *language = tree->language;
  Frame stack[MAX_HIDDEN_DEPTH];
  int top = 0;
  Length start = {node.context[0], {node.context[1], node.context[2]}};
  stack[0] = frame_of(language, root, start);
  uint32_t written = 0;
  while (top >= 0) {
    TSSymbol alias;
    Length position;
    const Subtree *child = frame_next(&stack[top], &alias, &position);
    if (!child) {
      top--;
      continue;
    }
    if (is_relevant(language, *child, alias, anonymous)) {
      TSNode found = {
        {position.bytes, position.extent.row, position.extent.column, alias},
        child,
        tree,
      };
      out[written++] = found;
      if (written == cap) return written;
    } else if (relevant_child_count(*child, anonymous) > 0) {
      if (top + 1 == MAX_HIDDEN_DEPTH) return UINT32_MAX;
      top++;
      stack[top] = frame_of(language, *child, position);
    }
  }
  return written;
}

/*
 * A pre-order walk of a subtree that stops only at nodes of wanted kinds, so that finding
 * the few nodes a pass looks at does not cost a call from Rust per node of the tree.
 *
 * Its stack lives on the heap (nesting is as deep as the source makes it: 100,000 nested
 * parentheses must work). Each frame steps through one subtree's children; `owner` is the
 * visible node those children belong to (for a hidden subtree, the visible node above it),
 * `owner_parent` the visible node above that.
 */
typedef struct {
  Frame frame;
  TSNode owner;
  TSNode owner_parent;
} WalkFrame;

typedef struct {
  WalkFrame *frames;
  uint32_t size;
  uint32_t capacity;
  TSNode root;
  bool root_done;
  bool failed;
} AdlintWalker;

/* One node the walk stopped at, with its parent and grandparent (null nodes above the
 * walk's root). */
typedef struct {
  TSNode node;
  TSNode parent;
  TSNode grandparent;
} AdlintHit;

static inline bool walker_push(
  AdlintWalker *self, Subtree subtree, Length position, TSNode owner, TSNode owner_parent
) {
  if (self->size == self->capacity) {
    uint32_t capacity = self->capacity ? self->capacity * 2 : 64;
    WalkFrame *frames = realloc(self->frames, capacity * sizeof(WalkFrame));
    if (!frames) return false;
    self->frames = frames;
    self->capacity = capacity;
  }
  WalkFrame *top = &self->frames[self->size++];
  top->frame = frame_of(owner.tree->language, subtree, position);
  top->owner = owner;
  top->owner_parent = owner_parent;
  return true;
}

/* A walker over `root` and the nodes under it; NULL if memory runs out. */
AdlintWalker *adlint_walker_new(TSNode root) {
  AdlintWalker *self = calloc(1, sizeof(AdlintWalker));
  if (self) self->root = root;
  return self;
}

void adlint_walker_free(AdlintWalker *self) {
  if (!self) return;
  free(self->frames);
  free(self);
}

/* Whether a visible node's kind is wanted: `ts_node_symbol`, inlined. */
static inline bool wanted_kind(
  const TSLanguage *language, Subtree subtree, TSSymbol alias, const bool *wanted,
  uint32_t wanted_len
) {
  TSSymbol symbol = alias ? alias : ts_subtree_symbol(subtree);
  TSSymbol kind = symbol == ts_builtin_sym_error ? symbol : language->public_symbol_map[symbol];
  return kind < wanted_len && wanted[kind];
}

/* Whether to step into a visible node's children. */
static inline bool has_children(Subtree subtree) {
  return ts_subtree_child_count(subtree) > 0 && subtree.ptr->visible_child_count > 0;
}

/*
 * Writes the next nodes of the walk whose kind id `k` has `wanted[k]` (up to `cap`) to
 * `out`, in pre-order, and returns how many: fewer than `cap` only when the walk is over.
 * UINT32_MAX if memory ran out (the walk is then over too).
 */
uint32_t adlint_walker_next(
  AdlintWalker *self, const bool *wanted, uint32_t wanted_len, AdlintHit *out, uint32_t cap
) {
  if (self->failed || cap == 0) return self->failed ? UINT32_MAX : 0;
  uint32_t written = 0;
  const TSLanguage *language = self->root.tree->language;
  if (!self->root_done) {
    self->root_done = true;
    if (self->root.id == NULL) return 0;
    Subtree root = *(const Subtree *)self->root.id;
    if (wanted_kind(language, root, (TSSymbol)self->root.context[3], wanted, wanted_len)) {
      AdlintHit hit = {self->root, {{0, 0, 0, 0}, NULL, NULL}, {{0, 0, 0, 0}, NULL, NULL}};
      out[written++] = hit;
    }
    if (has_children(root)) {
      Length start = {self->root.context[0], {self->root.context[1], self->root.context[2]}};
      TSNode none = {{0, 0, 0, 0}, NULL, NULL};
      if (!walker_push(self, root, start, self->root, none)) {
        self->failed = true;
        return UINT32_MAX;
      }
    }
  }
  while (self->size > 0 && written < cap) {
    WalkFrame *top = &self->frames[self->size - 1];
    TSSymbol alias;
    Length position;
    const Subtree *child = frame_next(&top->frame, &alias, &position);
    if (!child) {
      self->size--;
      continue;
    }
    if (ts_subtree_visible(*child) || alias) {
      TSNode node = {
        {position.bytes, position.extent.row, position.extent.column, alias},
        child,
        self->root.tree,
      };
      if (wanted_kind(language, *child, alias, wanted, wanted_len)) {
        AdlintHit hit = {node, top->owner, top->owner_parent};
        out[written++] = hit;
      }
      /* `top` may move when the stack grows. */
      if (has_children(*child) && !walker_push(self, *child, position, node, top->owner)) {
        self->failed = true;
        return UINT32_MAX;
      }
    } else if (relevant_child_count(*child, true) > 0) {
      TSNode owner = top->owner, owner_parent = top->owner_parent;
      if (!walker_push(self, *child, position, owner, owner_parent)) {
        self->failed = true;
        return UINT32_MAX;
      }
    }
  }
  return written;
}
