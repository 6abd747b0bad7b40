from holozero.commands import main

main()
