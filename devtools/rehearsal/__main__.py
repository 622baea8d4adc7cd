from devtools.rehearsal.rehearse import main

raise SystemExit(main())
