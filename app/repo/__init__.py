"""Every query and commit, one module per aggregate; rows become domain objects only here."""
