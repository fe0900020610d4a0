//! Which structure is recognised, its formula and the choice, one line per case.
