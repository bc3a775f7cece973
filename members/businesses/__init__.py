"""The member businesses on the 清册 engine, one module each, registered in MembersConfig.ready()."""
