//! TEMPORARY until the auth milestone merges: the revision enum auth owns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Revision {
    #[default]
    V0,
    V1,
}
