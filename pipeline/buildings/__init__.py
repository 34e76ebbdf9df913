"""Buildings: the keys of 小区 names, and resolving each listing to a registry building."""
