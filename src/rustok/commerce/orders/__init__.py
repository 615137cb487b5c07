"""Orders: placed from variants with stock reserved atomically, through pending → paid → shipped → completed,
or cancelled with their stock released."""
