"""Users: accounts within a tenant, their sessions, authentication, and the roles that grant them
permissions."""

from rustok.users import permissions as permissions  # its resources and grants are in force with it
