//! Julia type names as annotations write them: their base name (`M.Foo{T}` is `Foo`) and
//! the table of families (numbers, text, arrays by dimension) that tells when two
//! annotations can hold no common value.

use super::model::Param;
use crate::name::Name;

/// `Foo{T}` -> `Foo`, `M.Foo` -> `Foo`, `<:Foo` -> `Foo`.
pub fn base_type_name(text: &str) -> String {
    let t = text.trim().trim_start_matches("<:").trim();
    let t = t.split('{').next().unwrap_or(t);
    t.rsplit('.').next().unwrap_or(t).trim().to_string()
}

/// What an annotation says a value is, when adlint can tell: a number, a string, or an
/// array with a known number of dimensions (`None`: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    Number,
    Text,
    Array(Option<u8>),
}

pub fn type_family(annotation: &str) -> Option<TypeFamily> {
    let base = base_type_name(annotation);
    let base = base.rsplit('.').next().unwrap_or(&base);
    Some(match base {
        "Number" | "Real" | "Integer" | "Signed" | "Unsigned" | "AbstractFloat" | "Int"
        | "Int8" | "Int16" | "Int32" | "Int64" | "Int128" | "UInt" | "UInt8" | "UInt16"
        | "UInt32" | "UInt64" | "UInt128" | "Float16" | "Float32" | "Float64" | "Bool"
        | "Complex" | "ComplexF32" | "ComplexF64" | "Rational" | "AbstractIrrational" => {
            TypeFamily::Number
        }
        "String" | "AbstractString" | "Symbol" | "Char" | "AbstractChar" => TypeFamily::Text,
        "Vector" | "AbstractVector" | "DenseVector" | "StridedVector" | "BitVector"
        | "SparseVector" | "CuVector" => TypeFamily::Array(Some(1)),
        "Matrix" | "AbstractMatrix" | "DenseMatrix" | "StridedMatrix" | "BitMatrix"
        | "SparseMatrixCSC" | "CuMatrix" => TypeFamily::Array(Some(2)),
        "Array" | "AbstractArray" | "DenseArray" | "StridedArray" | "BitArray" | "CuArray" => {
            TypeFamily::Array(None)
        }
        _ => return None,
    })
}

/// Whether two annotations can hold no common value, as far as [`type_family`] tells.
pub fn types_disjoint(a: &str, b: &str) -> bool {
    match (type_family(a), type_family(b)) {
        (Some(TypeFamily::Array(Some(x))), Some(TypeFamily::Array(Some(y)))) => x != y,
        (Some(TypeFamily::Array(_)), Some(TypeFamily::Array(_))) => false,
        (Some(x), Some(y)) => x != y,
        _ => false,
    }
}

/// The annotations of `declared` and `params` position by position, where both have one,
/// up to either side's varargs.
pub fn positional_pairs<'p>(
    declared: &'p [Param],
    params: &'p [Param],
) -> impl Iterator<Item = (Name, Name)> + 'p {
    (declared.iter().zip(params))
        .take_while(|(d, p)| !d.vararg && !p.vararg)
        .filter_map(|(d, p)| Some((d.annotation?, p.annotation?)))
}
