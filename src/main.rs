fn main() {
    let p = std::env::args().nth(1).unwrap();
    let s = std::fs::read_to_string(p).unwrap();
    let f = adlint::facts::extract(&s);
    for (i, func) in f.functions.iter().enumerate() {
        println!("F{i} {:?} {:?} q={:?} params={:?} parent={:?}", func.kind, func.name, func.qualifier, func.params.iter().map(|p| (p.name.clone(), p.annotation.clone())).collect::<Vec<_>>(), func.parent);
    }
    for c in &f.calls { println!("CALL in F{} {:?} args={:?} bc={}", c.func, c.callee, c.args, c.broadcast); }
    for a in &f.assigns { println!("ASSIGN in F{} {} = {:?} {:?}", a.func, a.var, a.value, a.kind); }
    for s in &f.sites { println!("SITE in F{} {:?}", s.func, s.kind); }
    for r in &f.rule_decls { println!("RULE {:?}", r); }
    println!("imports {:?}", f.imports);
    println!("refs {:?}", f.refs.iter().map(|r| (r.func, &r.name)).collect::<Vec<_>>());
}
