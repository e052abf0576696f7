"""The line as one SECS/GEM equipment (SEMI E30 on HSMS, E37) for the factory host.

secsgem does HSMS and SECS-II and the GEM state models; this package adds what a line
controller needs around it: the catalogue of variables, events, alarms and commands
(``catalogue``, ``alarm_ids``), remote commands into the controller (``remote_commands``),
the durable in-order spool (``outbox``), process programs over configs/recipes
(``process_programs``), E37 timer handling (``hsms_link``), and the front that ties them to the controller's line events (``front``).
The strip map XML the host and the API share is ``packline.strip_map``. See docs/gem.md.
"""
