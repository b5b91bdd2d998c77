//! Store backends of the `redsol` binary: implementations of [`redsol_actors::store::Store`]
//! that need I/O crates the actors crate does not depend on. SQLite is the embedded default.

pub mod sqlite;
