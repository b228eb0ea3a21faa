# Exports every group of order 2..MAXORDER from GAP's SmallGroups library:
# its Cayley table on AsSSortedList(G) (element indices from 0), and its
# character table (each class by its representative's index and its size;
# each irreducible character's value on each class as [re, im] floats). One
# JSON object per line, with GAP's values of the invariants grokscope
# computes itself (groups::invariants), which tests/gap_oracle.rs compares.
# Run through scripts/export-gap, which sets MAXORDER and OUT and compresses
# the result.
Num := function(x)
    local s;
    if AbsoluteValue(x) < 1.0e-12 then
        return "0";
    fi;
    s := ShallowCopy(String(x));
    s := ReplacedString(s, ".e", ".0e");
    if s[Length(s)] = '.' then
        Append(s, "0");
    fi;
    return s;
end;;

CycValue := function(x, n)
    local c, re, im, k;
    c := CoeffsCyc(x, n);
    re := Sum([1..n], k -> Float(c[k]) * Cos(2.0 * FLOAT.PI * (k - 1) / n));
    im := Sum([1..n], k -> Float(c[k]) * Sin(2.0 * FLOAT.PI * (k - 1) / n));
    return Concatenation("[", Num(re), ",", Num(im), "]");
end;;

# nilpotency class (0 if not nilpotent), derived length (0 if not
# solvable), as grokscope stores them.
Invariants := function(G, tbl)
    local nil, dl;
    if IsNilpotentGroup(G) then nil := NilpotencyClassOfGroup(G); else nil := 0; fi;
    if IsSolvableGroup(G) then dl := DerivedLength(G); else dl := 0; fi;
    return Concatenation("{\"derived_order\":", String(Size(DerivedSubgroup(G))),
        ",\"classes\":", String(NrConjugacyClasses(G)),
        ",\"nilpotency_class\":", String(nil),
        ",\"derived_length\":", String(dl),
        ",\"exponent\":", String(Exponent(G)),
        ",\"centre_order\":", String(Size(Centre(G))),
        ",\"max_degree\":", String(Maximum(List(Irr(tbl), chi -> chi[1]))), "}");
end;;

Export := function(maxorder, path)
    local out, n, i, G, elts, table, tbl, classes, e;
    out := OutputTextFile(path, false);
    SetPrintFormattingStatus(out, false);
    for n in [2..maxorder] do
        for i in [1..NrSmallGroups(n)] do
            G := SmallGroup(n, i);
            elts := AsSSortedList(G);
            table := List(Cartesian(elts, elts), p -> Position(elts, p[1] * p[2]) - 1);
            tbl := CharacterTable(G);
            classes := ConjugacyClasses(tbl);
            e := Exponent(G);
            AppendTo(out, "{\"order\":", n, ",\"id\":", i,
                ",\"name\":\"", StructureDescription(G), "\",\"table\":[",
                JoinStringsWithSeparator(List(table, String), ","), "],\"classes\":[",
                JoinStringsWithSeparator(List(classes,
                    c -> Concatenation("[", String(Position(elts, Representative(c)) - 1), ",",
                                       String(Size(c)), "]")), ","),
                "],\"characters\":[",
                JoinStringsWithSeparator(List(Irr(tbl),
                    chi -> Concatenation("[", JoinStringsWithSeparator(
                        List(ValuesOfClassFunction(chi), v -> CycValue(v, e)), ","), "]")), ","),
                "],\"invariants\":", Invariants(G, tbl), "}\n");
        od;
    od;
    CloseStream(out);
end;;

Export(MAXORDER, OUT);
Print("export-gap: done\n");
QUIT;
