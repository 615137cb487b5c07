"""Users: accounts within a tenant, their sessions, authentication, and the roles that grant them
permissions."""
