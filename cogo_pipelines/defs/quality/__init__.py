"""Quality (DESIGN §5): the gate and report jobs, their schedules, the failure sensor."""
