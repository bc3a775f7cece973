"""The employer-level businesses on the 清册 engine, one module each, registered in EmployersConfig.ready()."""
